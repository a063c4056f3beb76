package sh.createos.sandbox.server.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;

/** Routes in registration order: register literal paths (e.g. {@code by-ip}) before their {@code {id}} siblings. */
public final class Router {
    private final List<Route> routes = new ArrayList<>();

    public record Match(Route route, Map<String, String> params) {}

    public void get(String path, boolean auth, Route.Handler handler) {
        routes.add(Route.of("GET", path, auth, handler));
    }

    public void post(String path, boolean auth, Route.Handler handler) {
        routes.add(Route.of("POST", path, auth, handler));
    }

    public void put(String path, boolean auth, Route.Handler handler) {
        routes.add(Route.of("PUT", path, auth, handler));
    }

    public void patch(String path, boolean auth, Route.Handler handler) {
        routes.add(Route.of("PATCH", path, auth, handler));
    }

    public void delete(String path, boolean auth, Route.Handler handler) {
        routes.add(Route.of("DELETE", path, auth, handler));
    }

    /**
     * Finds the route for a raw (still percent-encoded) path: split on '/' first, then decode each segment, so an
     * encoded '/' stays inside its segment.
     *
     * @throws DomainException 404 for an unknown path, 405 for a known path with another method
     */
    public Match match(String method, String rawPath) {
        List<String> segments = segments(rawPath);
        boolean pathKnown = false;
        for (Route route : routes) {
            Map<String, String> params = route.match(segments);
            if (params != null) {
                if (route.method().equals(method) || (method.equals("HEAD") && route.method().equals("GET"))) {
                    return new Match(route, params);
                }
                pathKnown = true;
            }
        }
        if (pathKnown) {
            throw new DomainException(ErrorCode.METHOD_NOT_ALLOWED, method + " is not allowed on " + rawPath);
        }
        throw DomainException.notFound("no such endpoint: " + method + " " + rawPath);
    }

    private static List<String> segments(String rawPath) {
        String path = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        List<String> segments = new ArrayList<>();
        for (String raw : path.split("/", -1)) {
            segments.add(decodeSegment(raw));
        }
        return segments;
    }

    private static String decodeSegment(String raw) {
        try {
            // In a path '+' is a literal plus, unlike in a query string.
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid("malformed percent-encoding in path segment '" + raw + "'");
        }
    }
}
