package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A guest file written through the agent's {@code write_file}, which replaces the file atomically when the channel
 * closes. A new or truncated file streams straight through (SFTP clients write in order; a write behind the end
 * fails, a gap is filled with zeros). Appending to, or rewriting part of, an existing file needs its old content:
 * it is fetched into a private temporary file on the host first and uploaded whole on close.
 */
final class AgentWriteChannel extends AgentChannel {
    private final AgentFileSystem fs;
    private final String path;
    private final int mode;
    private final boolean append;
    // streaming
    private ChunkPipe pipe;
    private CompletableFuture<Long> upload;
    // spooling
    private Path spoolFile;
    private FileChannel spool;

    private AgentWriteChannel(AgentFileSystem fs, String path, int mode, boolean append) {
        this.fs = fs;
        this.path = path;
        this.mode = mode;
        this.append = append;
    }

    /** Streams the new content; the file is replaced when the channel closes. */
    static AgentWriteChannel streaming(AgentFileSystem fs, String path, int mode) {
        AgentWriteChannel channel = new AgentWriteChannel(fs, path, mode, false);
        channel.pipe = new ChunkPipe();
        channel.upload = new CompletableFuture<>();
        ChunkPipe in = channel.pipe;
        Thread.ofVirtual().name("sftp-upload").start(() -> {
            try {
                channel.upload.complete(fs.agent().writeFile(path, in, mode));
            } catch (Throwable e) {
                channel.upload.completeExceptionally(e);
            } finally {
                in.close();
            }
        });
        return channel;
    }

    /** Starts from the file's current content (downloaded to a temporary file) for appends and partial rewrites. */
    static AgentWriteChannel spooling(AgentFileSystem fs, String path, int mode, boolean append) throws IOException {
        AgentWriteChannel channel = new AgentWriteChannel(fs, path, mode, append);
        channel.spoolFile = Files.createTempFile("createos-sftp-", ".part");
        try {
            try (var download = fs.agent().readFile(path)) {
                Files.copy(download.content(), channel.spoolFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            channel.spool = FileChannel.open(channel.spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
            channel.size = channel.spool.size();
        } catch (IOException e) {
            Files.deleteIfExists(channel.spoolFile);
            throw AgentFileSystemProvider.translate(path, e);
        }
        return channel;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        ensureOpen();
        int n = src.remaining();
        if (spool != null) {
            long at = append ? size : position;
            int written = spool.write(src, at);
            position = at + written;
            size = Math.max(size, position);
            return written;
        }
        if (position < size) {
            throw new IOException("write at offset " + position + " of " + path + " goes back over " + size
                    + " bytes already sent: the gateway streams uploads to the guest in order");
        }
        while (size < position) { // a gap: what a real file would read back as zeros
            int gap = (int) Math.min(64 * 1024, position - size);
            pipe.write(new byte[gap], 0, gap);
            size += gap;
        }
        byte[] chunk = new byte[n];
        src.get(chunk);
        pipe.write(chunk, 0, n);
        position += n;
        size = position;
        return n;
    }

    @Override
    public int read(ByteBuffer dst) {
        throw new NonReadableChannelException();
    }

    @Override
    public synchronized SeekableByteChannel truncate(long newSize) throws IOException {
        ensureOpen();
        if (newSize >= size) {
            return this;
        }
        if (spool == null) {
            throw new IOException("cannot truncate " + path + " below the " + size + " bytes already streamed");
        }
        spool.truncate(newSize);
        size = newSize;
        position = Math.min(position, newSize);
        return this;
    }

    /** Commits: ends the stream (or uploads the spool file) and waits until the agent has the file in place. */
    @Override
    public synchronized void close() throws IOException {
        if (!markClosed()) {
            return;
        }
        try {
            if (spool != null) {
                spool.close();
                try (InputStream in = Files.newInputStream(spoolFile)) {
                    fs.agent().writeFile(path, in, mode);
                } catch (IOException e) {
                    throw AgentFileSystemProvider.translate(path, e);
                }
            } else {
                pipe.end();
                upload.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while finishing the upload of " + path);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? AgentFileSystemProvider.translate(path, io)
                    : new IOException("uploading " + path + ": " + e.getCause(), e.getCause());
        } finally {
            fs.forget(path);
            if (spoolFile != null) {
                Files.deleteIfExists(spoolFile);
            }
        }
    }
}
