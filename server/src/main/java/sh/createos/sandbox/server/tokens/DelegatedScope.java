package sh.createos.sandbox.server.tokens;

import java.util.List;
import java.util.Set;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Router;

/**
 * What a delegated sandbox token may call (interactive-api.md §8): runtime operations on its own sandbox. A route
 * of another sandbox is a 404 (as if it did not exist); anything else, management and account routes included,
 * is a 403.
 */
final class DelegatedScope {
    private static final String SANDBOX = "/v1/sandboxes/{id}";
    /** Exact method + pattern pairs. */
    private static final Set<String> ROUTES = Set.of(
            "GET " + SANDBOX,
            "POST " + SANDBOX + "/exec",
            "POST " + SANDBOX + "/shell",
            "GET " + SANDBOX + "/shell-ws",
            "POST " + SANDBOX + "/shell-ws/ticket",
            "POST " + SANDBOX + "/tunnel/{port}",
            "GET " + SANDBOX + "/metrics",
            "GET " + SANDBOX + "/egress",
            "GET " + SANDBOX + "/bandwidth",
            "GET " + SANDBOX + "/disks");
    /** Every method on these subtrees. */
    private static final List<String> SUBTREES = List.of(SANDBOX + "/files", SANDBOX + "/processes",
            SANDBOX + "/computer");

    private DelegatedScope() {}

    static void check(AccessTokens.Grant grant, String method, Router.Match match) {
        String id = match.params().get("id");
        String pattern = "/" + String.join("/", match.route().pattern());
        if (id != null && pattern.startsWith(SANDBOX) && !id.equals(grant.sandboxId())) {
            throw ApiException.notFound("sandbox " + id + " not found");
        }
        String effective = "HEAD".equals(method) ? "GET" : method;
        boolean allowed = ROUTES.contains(effective + " " + pattern)
                || SUBTREES.stream().anyMatch(tree -> pattern.equals(tree) || pattern.startsWith(tree + "/"));
        if (!allowed) {
            throw ApiException.forbidden("PERMISSION_DENIED", "delegated token not allowed for this operation");
        }
    }
}
