package sh.createos.sandbox.server.api;

import java.util.List;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.CreateSandboxRequest.DiskAttachment;
import sh.createos.sandbox.model.Disk;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.server.disks.DiskService;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/** {@code /v1/disks} (spec §11.1-11.5) and a sandbox's disks (§11.6-11.8, interactive §9.2). */
public final class DiskRoutes {
    private DiskRoutes() {}

    public static void register(Router router, DiskService disks) {
        router.get("/v1/disks", true, ex -> {
            Paging paging = Paging.from(ex);
            ex.ok(Page.of(disks.list(ex.user(), paging.limit(), paging.offset()), disks.count(ex.user()),
                    paging.limit(), paging.offset()));
        });
        router.post("/v1/disks", true, ex -> ex.ok(disks.register(ex.user(), ex.body(Disk.CreateRequest.class))));
        router.get("/v1/disks/{disk}", true, ex -> ex.ok(disks.get(ex.user(), ex.param("disk"))));
        router.patch("/v1/disks/{disk}", true,
                ex -> ex.ok(disks.rotate(ex.user(), ex.param("disk"), ex.body(Disk.RotateRequest.class))));
        router.delete("/v1/disks/{disk}", true, ex -> {
            disks.delete(ex.user(), ex.param("disk"));
            ex.ok(new Disk.DeletedResponse(true));
        });
        router.get("/v1/sandboxes/{id}/disks", true, ex -> {
            Paging paging = Paging.from(ex);
            List<Disk.SandboxDisk> all = disks.mounts(ex.user(), ex.param("id"));
            List<Disk.SandboxDisk> page = all.subList(Math.min(paging.offset(), all.size()),
                    Math.min(paging.offset() + paging.limit(), all.size()));
            ex.ok(Page.of(page, all.size(), paging.limit(), paging.offset()));
        });
        router.post("/v1/sandboxes/{id}/disks", true, ex -> {
            disks.attach(ex.user(), ex.param("id"), ex.body(DiskAttachment.class));
            ex.ok(new Disk.AttachResponse(ex.param("id"), true));
        });
        router.delete("/v1/sandboxes/{id}/disks/{disk}", true, ex -> {
            disks.detach(ex.user(), ex.param("id"), ex.param("disk"), ex.query("mount_path"));
            ex.ok(new Disk.DetachResponse(true));
        });
    }

    /** The sandbox routes' part of disks: attachments at create, flush at destroy, checks after resume and fork. */
    public static SandboxHooks hooks(DiskService disks) {
        return new SandboxHooks() {
            @Override
            public void beforeCreate(User user, CreateSandboxRequest req) {
                if (req.disks() != null) {
                    disks.checkAttachments(user, req.disks());
                }
            }

            @Override
            public void afterCreate(User user, SandboxRecord created, CreateSandboxRequest req) {
                if (req.disks() != null && !req.disks().isEmpty()) {
                    disks.attachAtCreate(user, created, req.disks());
                }
            }

            @Override
            public void beforeDestroy(User user, String sandboxId) {
                disks.beforeDestroy(user, sandboxId);
            }

            @Override
            public void afterResume(SandboxRecord resumed) {
                disks.afterStart(resumed.id());
            }

            @Override
            public void afterFork(String sourceId, SandboxRecord child) {
                disks.afterFork(sourceId, child);
            }
        };
    }
}
