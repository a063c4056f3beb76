package sh.createos.sandbox.server.api;

import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Route;
import sh.createos.sandbox.server.http.Router;

/** Features the spec lets a server leave unconfigured: the S3 disks API answers 503 "disks API not configured". */
public final class UnconfiguredRoutes {
    private UnconfiguredRoutes() {}

    public static void register(Router router) {
        Route.Handler disks = ex -> {
            throw DomainException.unavailable("disks API not configured");
        };
        router.get("/v1/disks", true, disks);
        router.post("/v1/disks", true, disks);
        router.get("/v1/disks/{disk}", true, disks);
        router.patch("/v1/disks/{disk}", true, disks);
        router.delete("/v1/disks/{disk}", true, disks);
        router.get("/v1/sandboxes/{id}/disks", true, disks);
        router.post("/v1/sandboxes/{id}/disks", true, disks);
        router.delete("/v1/sandboxes/{id}/disks/{disk}", true, disks);
    }
}
