package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.host.agent.FileDownload;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.GuestPaths;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * {@code PUT/GET /v1/sandboxes/{id}/files?path=}: raw bytes streamed straight between the HTTP body and the
 * agent, never held whole in memory. The agent writes to a temporary file and renames it, so a failed upload
 * leaves nothing behind.
 */
public final class FileRoutes {
    private static final int FILE_MODE = 0644;
    private static final Duration DRAIN_LIMIT = Duration.ofSeconds(30);

    private FileRoutes() {}

    public static void register(Router router, SandboxService service) {
        router.put("/v1/sandboxes/{id}/files", true, ex -> {
            try {
                String path = GuestPaths.require(ex.query("path"));
                var running = service.running(ex.user(), ex.param("id"));
                try (var busy = service.activity().busy(running.sandbox().id())) {
                    running.agent().writeFile(path, new FillingInputStream(ex.bodyStream()), FILE_MODE);
                } catch (AgentException e) {
                    throw AgentErrors.map(e, path);
                }
            } catch (Exception e) {
                // Read what the client is still sending, so it gets our error instead of a connection reset.
                discard(ex.bodyStream());
                throw e;
            }
            ex.ok(Map.of());
        });
        router.get("/v1/sandboxes/{id}/files", true, ex -> {
            String path = GuestPaths.require(ex.query("path"));
            var running = service.running(ex.user(), ex.param("id"));
            FileDownload download;
            try {
                download = running.agent().readFile(path);
            } catch (AgentException e) {
                throw AgentErrors.map(e, path);
            }
            try (download; var busy = service.activity().busy(running.sandbox().id());
                    OutputStream out = ex.stream(200, "application/octet-stream", download.size())) {
                download.content().transferTo(out);
            }
        });
    }

    /** Reads and drops the rest of a body, for at most {@link #DRAIN_LIMIT}; past that the connection is dropped. */
    private static void discard(InputStream body) {
        long deadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
        byte[] buffer = new byte[64 * 1024];
        try {
            while (System.nanoTime() < deadline && body.read(buffer) >= 0) {
                // dropped
            }
        } catch (IOException e) {
            // the client went away: nothing left to answer
        }
    }

    /**
     * Hands out full buffers: a chunked body arrives in pieces of a few KiB, and every piece would become its own
     * agent frame, each costing the guest a write and a window update (slow under TCG); full 32 KiB frames make an
     * upload several times faster.
     */
    static final class FillingInputStream extends java.io.FilterInputStream {
        FillingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.readNBytes(b, off, len);
            return n == 0 && len > 0 ? -1 : n;
        }
    }

    /** Guest errno → the status the spec documents. */
    static final class AgentErrors {
        private AgentErrors() {}

        static DomainException map(AgentException e, String path) {
            return switch (e.code()) {
                case "ENOENT" -> DomainException.notFound("no such file or directory in the sandbox: " + path);
                case "EISDIR" -> DomainException.invalid(path + " is a directory");
                case "ENOTDIR", "EINVAL", "ENAMETOOLONG", "ELOOP" ->
                        DomainException.invalid("invalid path " + path + ": " + e.getMessage());
                case "EACCES", "EPERM", "EROFS" ->
                        new DomainException(ErrorCode.PERMISSION_DENIED, path + ": " + e.getMessage());
                case "ENOSPC", "EDQUOT" -> new DomainException(ErrorCode.NO_SPACE, "no space left on the sandbox disk writing " + path + "; grow it with POST …/resize");
                default -> new DomainException(ErrorCode.AGENT_ERROR, "guest agent failed on " + path + ": "
                        + e.code() + " " + e.getMessage());
            };
        }
    }
}
