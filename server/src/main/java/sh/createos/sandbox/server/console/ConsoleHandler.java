package sh.createos.sandbox.server.console;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the web console (the Vite build of {@code console/}) at {@code /console/}, same origin as the API, with a
 * strict Content-Security-Policy: the console's own scripts and styles only, no inline code, and network access
 * only back to this origin (HTTP and the {@code /shell-ws} WebSocket).
 *
 * <p>The dist directory is {@code CREATEOS_SANDBOX_CONSOLE_DIR} when set, else
 * {@code $CREATEOS_SANDBOX_HOME/console/dist} (setup builds it there; {@code bin/createos-sandbox} sets the home).
 * Without a built console the server runs as before and {@code /console/} is a 404 from the API router.
 */
public final class ConsoleHandler extends Handler.Wrapper {
    private static final Logger log = LoggerFactory.getLogger(ConsoleHandler.class);

    /**
     * No inline or foreign script, network only to this origin ('self' covers ws:/wss: to the same host in CSP
     * Level 3). Styles allow inline because xterm.js sizes its renderer through generated {@code <style>} elements.
     */
    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";

    private ConsoleHandler(Handler resources) {
        super(resources);
    }

    /** The dist directory from the environment, when it holds a built console. */
    public static Optional<Path> distDir() {
        String explicit = System.getenv("CREATEOS_SANDBOX_CONSOLE_DIR");
        String home = System.getenv("CREATEOS_SANDBOX_HOME");
        Path dir = explicit != null && !explicit.isBlank() ? Path.of(explicit)
                : home != null && !home.isBlank() ? Path.of(home, "console", "dist") : null;
        if (dir == null || !Files.isRegularFile(dir.resolve("index.html"))) {
            if (dir != null) {
                log.info("no web console at {} (run setup to build it); /console/ is off", dir);
            }
            return Optional.empty();
        }
        return Optional.of(dir.toAbsolutePath().normalize());
    }

    /**
     * {@code /console} in front of {@code api}: console paths are answered here, everything else goes to the API.
     */
    public static Handler inFront(Path dist, Handler api) {
        ResourceHandler files = new ResourceHandler();
        files.setBaseResource(ResourceFactory.root().newResource(dist));
        files.setDirAllowed(false);
        files.setWelcomeFiles("index.html");
        files.setCacheControl("no-cache");
        ContextHandler context = new ContextHandler(new ConsoleHandler(files), "/console");
        log.info("web console at /console/ from {}", dist);
        return new Handler.Sequence(context, api);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        var headers = response.getHeaders();
        headers.put("Content-Security-Policy", CSP);
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("X-Frame-Options", "DENY");
        if (super.handle(request, response, callback)) {
            return true;
        }
        // Unknown console path: the SPA has one page, so answer 404 in words rather than falling through to the API.
        headers.put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        Response.writeError(request, response, callback, 404, "no such console file");
        return true;
    }
}
