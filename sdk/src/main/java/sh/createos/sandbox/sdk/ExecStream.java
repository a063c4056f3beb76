package sh.createos.sandbox.sdk;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import sh.createos.sandbox.model.ExecStreamFrame;

/**
 * The live events of a streamed command, read from the NDJSON response as they arrive. Iterate it once (or use
 * {@link #stream()}); {@link #close()} drops the connection, which stops the command in the guest. Never retried.
 */
public final class ExecStream implements AutoCloseable, Iterable<ExecEvent> {
    private final InputStream body;
    private final BufferedReader lines;
    private boolean iterated;
    private volatile boolean closed;

    ExecStream(InputStream body) {
        this.body = body;
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The events, ending with {@link ExecEvent.Exit} or {@link ExecEvent.Error}. Only one iterator per stream. */
    @Override
    public synchronized Iterator<ExecEvent> iterator() {
        if (iterated) {
            throw new IllegalStateException("an ExecStream can be iterated only once");
        }
        iterated = true;
        return new Iterator<ExecEvent>() {
            private ExecEvent next;
            private boolean finished;

            @Override
            public boolean hasNext() {
                if (next == null && !finished) {
                    next = read();
                    finished = next == null;
                }
                return next != null;
            }

            @Override
            public ExecEvent next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ExecEvent e = next;
                next = null;
                if (e instanceof ExecEvent.Exit || e instanceof ExecEvent.Error) {
                    finished = true;
                }
                return e;
            }
        };
    }

    /** The events as a sequential stream; closing the returned stream closes this one. */
    public Stream<ExecEvent> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false)
                .onClose(this::close);
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

    private ExecEvent read() {
        if (closed) {
            return null;
        }
        try {
            String line;
            do {
                line = lines.readLine();
                if (line == null) {
                    return null;
                }
            } while (line.isBlank());
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
        } catch (IOException e) {
            if (closed) {
                return null;
            }
            return new ExecEvent.Error("exec stream broke: " + e.getMessage());
        }
    }

    /** Drops the connection; the server then stops the command. */
    @Override
    public void close() {
        closed = true;
        try {
            body.close();
        } catch (IOException ignored) {
            // closing a stream we are abandoning
        }
    }
}
