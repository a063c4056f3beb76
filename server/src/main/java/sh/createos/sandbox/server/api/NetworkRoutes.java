package sh.createos.sandbox.server.api;

import sh.createos.sandbox.model.CreateSandboxRequest.NetworkRef;
import sh.createos.sandbox.model.Network;
import sh.createos.sandbox.model.OkResponse;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.network.NetworkService;

/** {@code /v1/networks} (list, create, get, delete) and a sandbox's attach / detach (spec §10). */
public final class NetworkRoutes {
    private NetworkRoutes() {}

    public static void register(Router router, NetworkService networks) {
        router.get("/v1/networks", true, ex -> {
            Paging paging = Paging.from(ex);
            ex.ok(Page.of(networks.list(ex.user(), paging.limit(), paging.offset()), networks.count(ex.user()),
                    paging.limit(), paging.offset()));
        });
        router.post("/v1/networks", true,
                ex -> ex.ok(networks.create(ex.user(), ex.body(Network.CreateRequest.class))));
        router.get("/v1/networks/{id}", true, ex -> ex.ok(networks.get(ex.user(), ex.param("id"))));
        router.delete("/v1/networks/{id}", true, ex -> {
            networks.delete(ex.user(), ex.param("id"));
            ex.ok(OkResponse.OK);
        });
        router.post("/v1/sandboxes/{id}/networks", true, ex -> {
            NetworkRef ref = ex.body(NetworkRef.class);
            if (ref.id() == null || ref.id().isEmpty()) {
                throw DomainException.invalid("'id' (the network's id) is required");
            }
            networks.attach(ex.user(), ex.param("id"), ref.id());
            ex.ok(OkResponse.OK);
        });
        router.delete("/v1/sandboxes/{id}/networks/{network_id}", true, ex -> {
            networks.detach(ex.user(), ex.param("id"), ex.param("network_id"));
            ex.ok(OkResponse.OK);
        });
    }
}
