package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The bytes that another thread hands over in chunks (a relayed agent connection's messages), read as a stream;
 * {@link #end} or {@link #fail} ends it once the chunks before have been read.
 */
public final class ChunkInputStream extends InputStream {
    private static final byte[] END = new byte[0];

    private final LinkedBlockingQueue<byte[]> chunks = new LinkedBlockingQueue<>();
    private final String what;
    private volatile String failure;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;

    /** @param what names the source in failures ("agent relay") */
    public ChunkInputStream(String what) {
        this.what = what;
    }

    /** Queues {@code chunk}, which the caller no longer changes. */
    public void add(byte[] chunk) {
        if (chunk.length > 0) {
            chunks.add(chunk);
        }
    }

    public void end() {
        chunks.add(END);
    }

    /** Ends the stream with an error that names {@code message}. */
    public void fail(String message) {
        failure = message;
        chunks.add(END);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (position == current.length) {
            if (ended) {
                return -1;
            }
            try {
                current = chunks.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted reading the " + what);
            }
            position = 0;
            if (current == END) {
                ended = true;
                chunks.add(END); // later reads see the end too
                if (failure != null) {
                    throw new IOException(what + " failed: " + failure);
                }
                return -1;
            }
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public void close() {
        ended = true;
    }
}
