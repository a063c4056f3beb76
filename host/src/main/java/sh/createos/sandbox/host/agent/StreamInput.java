package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bytes the agent sends on one channel of a stream, as the application reads them. The agent's window bounds
 * what is buffered here; every byte the application consumes is credited back to the agent by {@link AgentStream}.
 * After {@link #close()} arriving bytes are dropped and credited at once, so an unread channel never stalls the agent.
 */
final class StreamInput extends InputStream {
    private final AgentStream stream;
    private volatile boolean abortOnEarlyClose;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int headOffset;
    private long buffered;
    private boolean ended;
    private boolean closed;
    private IOException failure;

    StreamInput(AgentStream stream) {
        this.stream = stream;
    }

    /** Closing this input before its end aborts the whole stream (a download nobody reads any more). */
    void abortStreamOnEarlyClose() {
        abortOnEarlyClose = true;
    }

    /** Called by the reader thread; returns false when the application closed this input and the bytes were dropped. */
    boolean offer(byte[] data) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            if (data.length > 0) {
                chunks.add(data);
                buffered += data.length;
                arrived.signalAll();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    void end() {
        lock.lock();
        try {
            ended = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Reads still return what is buffered, then throw {@code cause}; a clean end is not overridden. */
    void fail(IOException cause) {
        lock.lock();
        try {
            if (!ended && failure == null) {
                failure = cause;
                arrived.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    boolean isEnded() {
        lock.lock();
        try {
            return ended;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        int n = 0;
        lock.lock();
        try {
            while (buffered == 0) {
                if (closed) {
                    throw new IOException(stream.what() + ": stream closed");
                }
                if (failure != null) {
                    throw new IOException(failure.getMessage(), failure);
                }
                if (ended) {
                    return -1;
                }
                arrived.await();
            }
            while (n < len && !chunks.isEmpty()) {
                byte[] head = chunks.peek();
                int take = Math.min(len - n, head.length - headOffset);
                System.arraycopy(head, headOffset, b, off + n, take);
                n += take;
                headOffset += take;
                if (headOffset == head.length) {
                    chunks.poll();
                    headOffset = 0;
                }
            }
            buffered -= n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(stream.what() + ": interrupted while reading");
        } finally {
            lock.unlock();
        }
        stream.consumed(n, false);
        return n;
    }

    @Override
    public int available() {
        lock.lock();
        try {
            return (int) Math.min(buffered, Integer.MAX_VALUE);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        long dropped;
        boolean endedBefore;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            endedBefore = ended;
            dropped = buffered;
            buffered = 0;
            chunks.clear();
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        stream.consumed(dropped, false);
        if (!endedBefore && abortOnEarlyClose) {
            stream.abort();
        }
    }
}
