package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import sh.createos.sandbox.server.http.Router;

/** {@code GET /openapi.json} (no auth): the OpenAPI 3.1 description of this API, kept true by OpenApiTest. */
public final class OpenApiRoutes {
    static final String RESOURCE = "/openapi.json";

    private OpenApiRoutes() {}

    public static void register(Router router) {
        byte[] document = load();
        router.get("/openapi.json", false, ex -> {
            try (OutputStream out = ex.stream(200, "application/json", document.length)) {
                out.write(document);
            }
        });
    }

    private static byte[] load() {
        try (InputStream in = OpenApiRoutes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the server jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
