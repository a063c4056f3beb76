package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;

/** A TCP connection the agent opened inside the guest; closing {@link #output()} half-closes it. */
public final class DialConnection implements Closeable {
    private final AgentStream stream;

    DialConnection(AgentStream stream) {
        this.stream = stream;
    }

    public InputStream input() {
        return stream.input(Frame.STDOUT);
    }

    public OutputStream output() {
        return stream.output();
    }

    @Override
    public void close() {
        stream.abort();
        stream.input(Frame.STDOUT).close();
    }
}
