package sh.createos.sandbox.host.vmm;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Receives QEMU's outgoing migration stream on a Unix socket and writes it to a file, flushed to disk at the end.
 * The host copies it itself instead of QEMU's {@code exec:cat > FILE}: QEMU ends an exec migration by killing the
 * command if it has not exited within ~20 ms of the stream's end, which under load can cut off the file's tail.
 * Here the file is complete exactly when the stream reached EOF and QEMU reported the migration completed.
 */
final class MigrationReceiver implements Closeable {
    private static final int BUFFER = 1 << 20;

    private final Path socket;
    private final ServerSocketChannel server;
    private final CompletableFuture<Long> written = new CompletableFuture<>();

    private MigrationReceiver(Path socket, ServerSocketChannel server, Path target) {
        this.socket = socket;
        this.server = server;
        Thread.ofVirtual().name("migration-receiver " + socket).start(() -> receive(target));
    }

    static MigrationReceiver listen(Path socket, Path target) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        return new MigrationReceiver(socket, server, target);
    }

    /** The {@code migrate} URI that makes QEMU connect here. */
    String uri() {
        return "unix:" + socket;
    }

    private void receive(Path target) {
        try (SocketChannel client = server.accept();
                FileChannel file = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
            long total = 0;
            while (client.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    total += file.write(buffer);
                }
                buffer.clear();
            }
            file.force(true);
            written.complete(total);
        } catch (IOException | RuntimeException e) {
            written.completeExceptionally(e);
        }
    }

    /** Bytes written once QEMU closed the stream and the file is on disk. */
    long awaitEnd(Duration timeout) throws IOException {
        try {
            return written.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("the migration stream on " + socket + " did not end within " + timeout);
        } catch (ExecutionException e) {
            throw new IOException("receiving the migration stream on " + socket + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while receiving the migration stream on " + socket);
        }
    }

    @Override
    public void close() throws IOException {
        server.close(); // also fails a pending accept
        Files.deleteIfExists(socket);
    }
}
