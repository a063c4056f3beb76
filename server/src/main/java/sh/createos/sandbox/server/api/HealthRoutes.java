package sh.createos.sandbox.server.api;

import java.util.LinkedHashMap;
import java.util.Map;
import sh.createos.sandbox.model.Envelope;
import sh.createos.sandbox.model.Probes;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.store.Store;

/** {@code /healthz} (the process is up) and {@code /readyz} (the database answers and VMs can boot). No auth. */
public final class HealthRoutes {
    private HealthRoutes() {}

    public static void register(Router router, Store store, Host host) {
        router.get("/healthz", false, ex -> ex.ok(new Probes.Healthz(true)));
        router.get("/readyz", false, ex -> {
            String reason = host.problem().orElse(null);
            if (reason == null) {
                try {
                    store.users();
                } catch (RuntimeException e) {
                    reason = "database unavailable: " + e.getMessage();
                }
            }
            String accelerator = host.accelerator().map(Object::toString).orElse(null);
            if (reason == null) {
                ex.ok(new Probes.Readyz(true, null, null, accelerator));
            } else {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("ready", false);
                data.put("reason", reason);
                data.put("accelerator", accelerator);
                ex.send(503, Envelope.fail(data));
            }
        });
    }
}
