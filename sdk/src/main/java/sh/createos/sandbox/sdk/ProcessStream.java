package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The replayed and live output of a managed process ({@code …/connect?after=N}). Closing it detaches only: the
 * process keeps running, and a later attach replays from the last sequence number seen.
 */
public final class ProcessStream implements AutoCloseable, Iterable<ProcessEvent> {
    private final InputStream body;
    private final BufferedReader lines;
    private volatile boolean closed;
    private boolean iterated;

    ProcessStream(InputStream body) {
        this.body = body;
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The frames, ending with {@link ProcessEvent.Exit} or {@link ProcessEvent.Error}; one iterator only. */
    @Override
    public synchronized Iterator<ProcessEvent> iterator() {
        if (iterated) {
            throw new IllegalStateException("a ProcessStream can be iterated only once");
        }
        iterated = true;
        return new Iterator<ProcessEvent>() {
            private ProcessEvent next;
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
            public ProcessEvent next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ProcessEvent e = next;
                next = null;
                if (e instanceof ProcessEvent.Exit || e instanceof ProcessEvent.Error) {
                    finished = true;
                }
                return e;
            }
        };
    }

    /** The frames as a sequential stream; closing it closes this one. */
    public Stream<ProcessEvent> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false)
                .onClose(this::close);
    }

    private ProcessEvent read() {
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
            JsonNode f = Transport.JSON.readTree(line);
            switch (f.path("type").asText()) {
                case "data":
                    return new ProcessEvent.Data(f.path("seq").asLong(), f.path("stream").asText(),
                            Base64.getDecoder().decode(f.path("data_base64").asText()));
                case "exit":
                    return new ProcessEvent.Exit(f.hasNonNull("exit_code") ? f.get("exit_code").asInt() : null,
                            f.hasNonNull("signal") ? f.get("signal").asText() : null);
                case "error":
                    return new ProcessEvent.Error(f.path("error").asText(),
                            f.hasNonNull("oldest_available_seq") ? f.get("oldest_available_seq").asLong() : null);
                default:
                    return new ProcessEvent.Heartbeat();
            }
        } catch (IOException e) {
            return closed ? null : new ProcessEvent.Error("process stream broke: " + e.getMessage(), null);
        }
    }

    /** Detaches (the process keeps running). */
    @Override
    public void close() {
        closed = true;
        try {
            body.close();
        } catch (IOException ignored) {
            // abandoning the stream
        }
    }
}
