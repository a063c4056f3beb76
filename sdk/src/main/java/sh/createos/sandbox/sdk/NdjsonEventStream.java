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

/**
 * Events decoded one per NDJSON line of a response body as they arrive, until a last event or the end of the body.
 * Iterable once; closing drops the connection (what that means to the server is the subclass's to say).
 */
abstract class NdjsonEventStream<E> implements AutoCloseable, Iterable<E> {
    private final InputStream body;
    private final BufferedReader lines;
    private volatile boolean closed;
    private boolean iterated;

    NdjsonEventStream(InputStream body) {
        this.body = body;
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The event one non-blank line carries. */
    abstract E decode(String line) throws IOException;

    /** Whether nothing follows this event (an exit or an error). */
    abstract boolean isLast(E event);

    /** The event that reports the body breaking off while open. */
    abstract E broken(IOException cause);

    /** The events, ending with the last one; only one iterator per stream. */
    @Override
    public synchronized Iterator<E> iterator() {
        if (iterated) {
            throw new IllegalStateException("a " + getClass().getSimpleName() + " can be iterated only once");
        }
        iterated = true;
        return new Iterator<E>() {
            private E next;
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
            public E next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                E e = next;
                next = null;
                if (isLast(e)) {
                    finished = true;
                }
                return e;
            }
        };
    }

    /** The events as a sequential stream; closing the returned stream closes this one. */
    public Stream<E> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false)
                .onClose(this::close);
    }

    private E read() {
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
            return decode(line);
        } catch (IOException e) {
            return closed ? null : broken(e);
        }
    }

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
