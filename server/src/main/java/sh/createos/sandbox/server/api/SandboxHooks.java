package sh.createos.sandbox.server.api;

import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * What features attached to a sandbox (its S3 disks) do around the sandbox routes: check a create's attachments
 * before anything boots, attach them once it runs, flush before a destroy, re-check after a resume or a fork.
 */
public interface SandboxHooks {
    /** Without disks: a create that names any is refused. */
    SandboxHooks NONE = new SandboxHooks() {};

    default void beforeCreate(User user, CreateSandboxRequest req) {
        if (req.disks() != null && !req.disks().isEmpty()) {
            throw DomainException.invalid("unknown disk '" + req.disks().get(0).diskId() + "'");
        }
    }

    default void afterCreate(User user, SandboxRecord created, CreateSandboxRequest req) {}

    default void beforeDestroy(User user, String sandboxId) {}

    default void afterResume(SandboxRecord resumed) {}

    default void afterFork(String sourceId, SandboxRecord child) {}
}
