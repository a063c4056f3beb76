package sh.createos.sandbox.server.api;

import java.util.List;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.CreateSandboxResponse;
import sh.createos.sandbox.model.DestroyedResponse;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.model.PatchSandboxRequest;
import sh.createos.sandbox.model.ResizeSandbox;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.SandboxView;
import sh.createos.sandbox.model.SshPubkeys;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxViews;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/** {@code /v1/sandboxes}: create, list, get, by-ip, patch, destroy, pause, resume, fork, resize, ssh-pubkeys. */
public final class SandboxRoutes {
    private SandboxRoutes() {}

    public static void register(Router router, SandboxService service, Store store, SandboxViews views) {
        register(router, service, store, views, SandboxHooks.NONE);
    }

    public static void register(Router router, SandboxService service, Store store, SandboxViews views,
            SandboxHooks hooks) {
        router.post("/v1/sandboxes", true, ex -> {
            CreateSandboxRequest req = ex.body(CreateSandboxRequest.class);
            hooks.beforeCreate(ex.user(), req);
            SandboxRecord created = service.create(ex.user(), req);
            hooks.afterCreate(ex.user(), created, req);
            ex.ok(CreateSandboxResponse.of(views.view(created), created.bandwidthQuotaBytes()));
        });
        router.get("/v1/sandboxes", true, ex -> {
            Paging paging = Paging.from(ex);
            SandboxStatus status = status(ex.query("status"));
            List<SandboxView> page = views.list(store.sandboxes(ex.user().id(), status, paging.limit(),
                    paging.offset()));
            ex.ok(Page.of(page, store.countSandboxes(ex.user().id(), status), paging.limit(), paging.offset()));
        });
        // Before {id}: "by-ip" is never a sandbox id.
        router.get("/v1/sandboxes/by-ip/{ip}", true,
                ex -> ex.ok(views.detail(service.byIp(ex.user(), ex.param("ip")))));
        router.get("/v1/sandboxes/{id}", true,
                ex -> ex.ok(views.detail(service.get(ex.user(), ex.param("id")))));
        router.patch("/v1/sandboxes/{id}", true, ex -> {
            PatchSandboxRequest req = ex.body(PatchSandboxRequest.class);
            ex.ok(views.view(service.patch(ex.user(), ex.param("id"), req)));
        });
        router.delete("/v1/sandboxes/{id}", true, ex -> {
            String id = ex.param("id");
            hooks.beforeDestroy(ex.user(), id);
            ex.ok(new DestroyedResponse(id, service.destroy(ex.user(), id)));
        });
        // pause and resume take no body (the SDK sends none); whatever comes is ignored.
        router.post("/v1/sandboxes/{id}/pause", true,
                ex -> ex.ok(views.view(service.pause(ex.user(), ex.param("id")))));
        router.post("/v1/sandboxes/{id}/resume", true, ex -> {
            SandboxRecord resumed = service.resume(ex.user(), ex.param("id"));
            hooks.afterResume(resumed);
            ex.ok(views.view(resumed));
        });
        router.post("/v1/sandboxes/{id}/fork", true, ex -> {
            ForkSandboxRequest req = ex.body(ForkSandboxRequest.class);
            SandboxRecord child = service.fork(ex.user(), ex.param("id"), req);
            hooks.afterFork(ex.param("id"), child);
            ex.ok(views.view(child));
        });
        router.post("/v1/sandboxes/{id}/resize", true, ex -> {
            ResizeSandbox.Request req = ex.body(ResizeSandbox.Request.class);
            SandboxRecord resized = service.resize(ex.user(), ex.param("id"), req.diskMib());
            ex.ok(new ResizeSandbox.Response(resized.id(), resized.diskMib()));
        });
        router.post("/v1/sandboxes/{id}/ssh-pubkeys", true, ex -> {
            SshPubkeys.Request req = ex.body(SshPubkeys.Request.class);
            ex.ok(new SshPubkeys.Response(service.addSshPubkeys(ex.user(), ex.param("id"), req.keys())));
        });
    }

    private static SandboxStatus status(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return SandboxStatus.fromWire(value);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid(e.getMessage());
        }
    }
}
