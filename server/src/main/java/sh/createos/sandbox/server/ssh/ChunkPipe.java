package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A bounded hand-over of byte chunks from one writer thread to one reader thread (SFTP writes to the agent's
 * upload), without the thread-affinity rules of {@code PipedInputStream}.
 */
final class ChunkPipe extends InputStream {
    private static final byte[] END = new byte[0];
    private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(32);
    private byte[] current;
    private int offset;
    private volatile boolean readerGone;

    void write(byte[] data, int off, int len) throws IOException {
        if (readerGone) {
            throw new IOException("the upload to the guest ended early");
        }
        byte[] copy = new byte[len];
        System.arraycopy(data, off, copy, 0, len);
        put(copy);
    }

    void end() throws IOException {
        if (!readerGone) {
            put(END);
        }
    }

    private void put(byte[] chunk) throws IOException {
        try {
            chunks.put(chunk);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while handing data to the guest");
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    /** Blocks for the first bytes, then takes what is already queued, so the agent gets full frames. */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int copied = 0;
        while (copied < len && current != END) {
            if (current == null || offset == current.length) {
                byte[] next = copied == 0 ? take() : chunks.poll();
                if (next == null) {
                    break;
                }
                current = next;
                offset = 0;
                continue;
            }
            int n = Math.min(len - copied, current.length - offset);
            System.arraycopy(current, offset, b, off + copied, n);
            offset += n;
            copied += n;
        }
        return copied == 0 && current == END ? -1 : copied;
    }

    private byte[] take() throws IOException {
        try {
            return chunks.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for SFTP data");
        }
    }

    /** The reader stopped (the upload failed): writers fail from now on instead of blocking. */
    @Override
    public void close() {
        readerGone = true;
        chunks.clear();
    }
}
