package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;

/** Bytes to the agent on channel 0 of a stream, in frames of at most 32 KiB within the stream's send window. */
final class StreamOutput extends OutputStream {
    private final AgentStream stream;
    private boolean closed;

    StreamOutput(AgentStream stream) {
        this.stream = stream;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    /** Blocks only the calling thread while the agent's window is exhausted. */
    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException(stream.what() + ": input already closed");
        }
        while (len > 0) {
            int n = stream.acquireSendWindow(Math.min(len, Frame.MAX_DATA));
            stream.send(Frame.DATA, Frame.STDIN, b, off, n);
            off += n;
            len -= n;
        }
    }

    /** Sends EOF on channel 0: the process's stdin (or the uploaded file, or the dialed socket's write side) ends. */
    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            stream.send(Frame.EOF, Frame.STDIN, new byte[0], 0, 0);
        }
    }
}
