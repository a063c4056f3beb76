package sh.createos.sandbox.server.tokens;

import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * {@code /v1/sandboxes/{id}/access-token}: create, read, rotate, delete a sandbox's delegated token
 * (interactive-api.md §8). Owner credentials only: {@link DelegatedScope} turns a delegated token away with 403.
 * Bodies are ignored (clients send none, or an empty one with a JSON content type).
 */
public final class AccessTokenRoutes {
    private AccessTokenRoutes() {}

    public static void register(Router router, SandboxService service, AccessTokens tokens) {
        String path = "/v1/sandboxes/{id}/access-token";
        router.post(path + "/rotate", true, ex -> ex.ok(tokens.rotate(service.get(ex.user(), ex.param("id")))));
        router.post(path, true, ex -> ex.ok(tokens.create(live(service, ex.user(), ex.param("id")))));
        router.get(path, true, ex -> ex.ok(tokens.metadata(service.get(ex.user(), ex.param("id")))));
        router.delete(path, true, ex -> ex.ok(tokens.delete(service.get(ex.user(), ex.param("id")))));
    }

    /** A destroyed sandbox can get no new token. */
    private static sh.createos.sandbox.server.store.SandboxRecord live(SandboxService service,
            sh.createos.sandbox.server.store.User user, String id) {
        var sandbox = service.get(user, id);
        var status = sandbox.status();
        if (status == sh.createos.sandbox.model.SandboxStatus.DESTROYED
                || status == sh.createos.sandbox.model.SandboxStatus.DESTROYING) {
            throw sh.createos.sandbox.server.http.ApiException.notFound("sandbox " + id + " not found");
        }
        return sandbox;
    }
}
