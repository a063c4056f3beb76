package sh.createos.sandbox.sdk;

import java.io.IOException;
import java.io.InputStream;
import sh.createos.sandbox.model.ExecStreamFrame;

/**
 * The live events of a streamed command, read from the NDJSON response as they arrive. Iterate it once (or use
 * {@link #stream()}); {@link #close()} drops the connection, which stops the command in the guest. Never retried.
 */
public final class ExecStream extends NdjsonEventStream<ExecEvent> {
    ExecStream(InputStream body) {
        super(body);
    }

    /** Reads to the end and returns the collected output and exit code (an error event throws). */
    public ExecResult collect() {
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        long started = System.nanoTime();
        try {
            for (ExecEvent e : this) {
                if (e instanceof ExecEvent.Stdout) {
                    out.append(((ExecEvent.Stdout) e).data());
                } else if (e instanceof ExecEvent.Stderr) {
                    err.append(((ExecEvent.Stderr) e).data());
                } else if (e instanceof ExecEvent.Exit) {
                    return new ExecResult(((ExecEvent.Exit) e).exitCode(), out.toString(), err.toString(),
                            (System.nanoTime() - started) / 1e6);
                } else if (e instanceof ExecEvent.Error) {
                    throw new SandboxException("command failed: " + ((ExecEvent.Error) e).message());
                }
            }
        } finally {
            close();
        }
        throw new ConnectionException("the exec stream ended before the command's exit", null);
    }

    @Override
    ExecEvent decode(String line) throws IOException {
        ExecStreamFrame f = Transport.JSON.readValue(line, ExecStreamFrame.class);
        if (f.stdout() != null) {
            return new ExecEvent.Stdout(f.stdout());
        }
        if (f.stderr() != null) {
            return new ExecEvent.Stderr(f.stderr());
        }
        if (f.exitCode() != null) {
            return new ExecEvent.Exit(f.exitCode());
        }
        if (f.error() != null) {
            return new ExecEvent.Error(f.error());
        }
        return new ExecEvent.Heartbeat();
    }

    @Override
    boolean isLast(ExecEvent event) {
        return event instanceof ExecEvent.Exit || event instanceof ExecEvent.Error;
    }

    @Override
    ExecEvent broken(IOException cause) {
        return new ExecEvent.Error("exec stream broke: " + cause.getMessage());
    }

    /** Drops the connection; the server then stops the command. */
    @Override
    public void close() {
        super.close();
    }
}
