package sh.createos.sandbox.server.http;

import java.util.List;
import java.util.Map;

/** A method + path pattern ({@code /v1/sandboxes/{id}/exec}) bound to a handler. */
public record Route(String method, List<String> pattern, boolean authenticated, Handler handler) {

    @FunctionalInterface
    public interface Handler {
        void handle(Exchange exchange) throws Exception;
    }

    static Route of(String method, String path, boolean authenticated, Handler handler) {
        return new Route(method, List.of(path.substring(1).split("/")), authenticated, handler);
    }

    /** Decoded path parameters if {@code segments} fit the pattern, else null. */
    Map<String, String> match(List<String> segments) {
        if (segments.size() != pattern.size()) {
            return null;
        }
        Map<String, String> params = new java.util.HashMap<>();
        for (int i = 0; i < pattern.size(); i++) {
            String p = pattern.get(i);
            if (p.startsWith("{")) {
                params.put(p.substring(1, p.length() - 1), segments.get(i));
            } else if (!p.equals(segments.get(i))) {
                return null;
            }
        }
        return params;
    }
}
