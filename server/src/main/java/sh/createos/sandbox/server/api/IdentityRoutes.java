package sh.createos.sandbox.server.api;

import java.util.Map;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.WhoAmIView;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.store.Store;

/** {@code GET /v1/whoami}: the caller and counts of its sandboxes. */
public final class IdentityRoutes {
    private IdentityRoutes() {}

    public static void register(Router router, Store store) {
        router.get("/v1/whoami", true, ex -> {
            Map<SandboxStatus, Long> counts = store.countByStatus(ex.user().id());
            long running = counts.getOrDefault(SandboxStatus.RUNNING, 0L);
            long paused = counts.getOrDefault(SandboxStatus.PAUSED, 0L);
            long total = counts.entrySet().stream().filter(e -> e.getKey() != SandboxStatus.DESTROYED)
                    .mapToLong(Map.Entry::getValue).sum();
            ex.ok(new WhoAmIView(ex.user().id(), new WhoAmIView.Stats(running, paused, total - running - paused,
                    total)));
        });
    }
}
