package sh.createos.sandbox.server.tokens;

import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * {@code /v1/sandboxes/{id}/access-token}: create, read, rotate, delete a sandbox's delegated token
 * (interactive-api.md §8). Owner credentials only: {@link DelegatedScope} turns a delegated token away with 403.
 * Bodies are ignored (clients send none, or an empty one with a JSON content type).
 */
public final class AccessTokenRoutes {
    private AccessTokenRoutes() {}

    public static void register(Router router, SandboxService service, AccessTokens tokens) {
        String path = "/v1/sandboxes/{id}/access-token";
        router.post(path + "/rotate", true, ex -> ex.ok(tokens.rotate(live(service, ex.user(), ex.param("id")))));
        router.post(path, true, ex -> ex.ok(tokens.create(live(service, ex.user(), ex.param("id")))));
        router.get(path, true, ex -> ex.ok(tokens.metadata(service.get(ex.user(), ex.param("id")))));
        router.delete(path, true, ex -> ex.ok(tokens.delete(service.get(ex.user(), ex.param("id")))));
    }

    /** A destroyed (or destroying) sandbox gets no new token: it is as gone as an unknown one. */
    private static SandboxRecord live(SandboxService service, User user, String id) {
        SandboxRecord sandbox = service.get(user, id);
        if (sandbox.status() == SandboxStatus.DESTROYED || sandbox.status() == SandboxStatus.DESTROYING) {
            throw ApiException.notFound("sandbox " + id + " not found");
        }
        return sandbox;
    }
}
