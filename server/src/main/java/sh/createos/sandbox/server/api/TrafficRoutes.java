package sh.createos.sandbox.server.api;

import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.model.EgressView;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.network.TrafficService;

/** {@code /v1/sandboxes/{id}/egress} (GET, PUT) and {@code …/bandwidth} (GET, POST recharge), spec §9.1-9.4. */
public final class TrafficRoutes {
    private TrafficRoutes() {}

    public static void register(Router router, TrafficService traffic) {
        router.get("/v1/sandboxes/{id}/egress", true, ex -> ex.ok(traffic.egress(ex.user(), ex.param("id"))));
        router.put("/v1/sandboxes/{id}/egress", true, ex -> {
            EgressView.SetRequest req = ex.body(EgressView.SetRequest.class);
            ex.ok(traffic.setEgress(ex.user(), ex.param("id"), req.egress()));
        });
        router.get("/v1/sandboxes/{id}/bandwidth", true, ex -> ex.ok(traffic.bandwidth(ex.user(), ex.param("id"))));
        router.post("/v1/sandboxes/{id}/bandwidth/recharge", true, ex -> {
            String id = ex.param("id");
            traffic.bandwidth(ex.user(), id); // ownership (404) before the body is judged (400), as the spec orders
            BandwidthView.RechargeRequest req = ex.body(BandwidthView.RechargeRequest.class);
            ex.ok(traffic.recharge(ex.user(), id, req.addBytes()));
        });
    }
}
