package sh.createos.sandbox.sdk;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Files inside the guest, streamed both ways: uploads read their source as the socket takes it, downloads hand
 * back the response stream itself; nothing is held in memory. Paths are absolute guest paths; parents are created.
 */
public final class SandboxFiles {
    private final Transport transport;
    private final String sandboxPath;

    SandboxFiles(Transport transport, String sandboxPath) {
        this.transport = transport;
        this.sandboxPath = sandboxPath;
    }

    /** Uploads a local file (with its length; retried like any PUT, the file is re-read). */
    public void upload(String path, Path source) {
        if (!Files.isRegularFile(source)) {
            throw new UncheckedIOException(new FileNotFoundException(source.toString()));
        }
        put(path, () -> {
            try {
                return HttpRequest.BodyPublishers.ofFile(source);
            } catch (FileNotFoundException e) {
                throw new UncheckedIOException(e);
            }
        }, true);
    }

    /** Uploads bytes (retried like any PUT). */
    public void upload(String path, byte[] content) {
        put(path, () -> HttpRequest.BodyPublishers.ofByteArray(content), true);
    }

    /** Uploads everything the stream yields, chunked as it is read; never retried (a stream reads once). */
    public void upload(String path, InputStream content) {
        boolean[] used = {false};
        put(path, () -> HttpRequest.BodyPublishers.ofInputStream(() -> {
            if (used[0]) {
                throw new IllegalStateException("an InputStream upload cannot be replayed");
            }
            used[0] = true;
            return content;
        }), false);
    }

    private void put(String path, java.util.function.Supplier<HttpRequest.BodyPublisher> body, boolean replayable) {
        Transport.Call call = new Transport.Call("PUT", sandboxPath + "/files").query("path", path);
        call.body = body;
        call.contentType = "application/octet-stream";
        if (!replayable) {
            call.once();
        }
        call.timeout(java.time.Duration.ZERO); // the server answers only after the last byte
        transport.data(call);
    }

    /**
     * The file's bytes as a stream straight off the connection; close it when done (closing early drops the
     * connection). @throws NotFoundException when the file does not exist
     */
    public InputStream download(String path) {
        HttpResponse<InputStream> response = transport.send(new Transport.Call("GET", sandboxPath + "/files")
                .query("path", path));
        return response.body();
    }

    /** Downloads into a local file, replacing it; returns the number of bytes. */
    public long download(String path, Path target) {
        try (InputStream in = download(path)) {
            return Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ConnectionException("downloading " + path + ": " + e.getMessage(), e);
        }
    }

    /** A whole file as bytes, for small files. */
    public byte[] readAllBytes(String path) {
        try (InputStream in = download(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ConnectionException("downloading " + path + ": " + e.getMessage(), e);
        }
    }
}
