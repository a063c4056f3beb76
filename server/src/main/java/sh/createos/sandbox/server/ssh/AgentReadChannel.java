package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import sh.createos.sandbox.host.agent.FileDownload;

/**
 * A guest file read through the agent's {@code read_file} stream. SFTP clients read in order, so one stream usually
 * serves the whole file; a read behind the stream (or far ahead) reopens it at the start and skips forward.
 */
final class AgentReadChannel extends AgentChannel {
    private static final long SKIP_AHEAD_LIMIT = 4L << 20;
    private final AgentFileSystem fs;
    private final String path;
    private FileDownload download;
    private InputStream in;
    private long streamPosition;

    AgentReadChannel(AgentFileSystem fs, String path) throws IOException {
        this.fs = fs;
        this.path = path;
        reopen();
    }

    private void reopen() throws IOException {
        closeStream();
        try {
            download = fs.agent().readFile(path);
        } catch (IOException e) {
            throw AgentFileSystemProvider.translate(path, e);
        }
        in = download.content();
        size = download.size();
        streamPosition = 0;
    }

    @Override
    public synchronized int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (position != streamPosition) {
            if (position < streamPosition || position - streamPosition > SKIP_AHEAD_LIMIT) {
                reopen();
            }
            in.skipNBytes(Math.min(position, size) - streamPosition);
            streamPosition = Math.min(position, size);
        }
        if (position >= size) {
            return -1;
        }
        // Fill the whole request: a short read makes SFTP clients ask again for the rest, behind the stream.
        int want = (int) Math.min(dst.remaining(), size - position);
        byte[] chunk = dst.hasArray() ? dst.array() : new byte[want];
        int base = dst.hasArray() ? dst.arrayOffset() + dst.position() : 0;
        int n = in.readNBytes(chunk, base, want);
        if (n <= 0) {
            return -1;
        }
        if (dst.hasArray()) {
            dst.position(dst.position() + n);
        } else {
            dst.put(chunk, 0, n);
        }
        position += n;
        streamPosition += n;
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public SeekableByteChannel truncate(long newSize) {
        throw new NonWritableChannelException();
    }

    @Override
    public synchronized void close() throws IOException {
        markClosed();
        closeStream();
    }

    private void closeStream() throws IOException {
        if (download != null) {
            download.close();
            download = null;
        }
    }
}
