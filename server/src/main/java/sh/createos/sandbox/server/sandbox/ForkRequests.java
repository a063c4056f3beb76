package sh.createos.sandbox.server.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * What a fork request may override (spec §4.5); everything it omits is inherited from the source. The child has
 * the source's shape, rootfs and disk, a new id and name, and starts as {@code forking}.
 */
final class ForkRequests {
    /** {@code bandwidth_quota_bytes}: -1 is unmetered, else a byte count. */
    private static final long UNMETERED = -1;

    private ForkRequests() {}

    /** @throws DomainException 400 naming the bad field */
    static SandboxRecord childRow(User user, SandboxRecord source, ForkSandboxRequest req, Instant now) {
        Map<String, String> envs = req.envs() == null ? source.envs() : CreateRequests.checkEnvs(req.envs());
        List<String> egress = req.egress() == null ? source.egress() : CreateRequests.checkEgress(req.egress());
        List<String> keys = req.sshPubkeys() == null ? source.sshPubkeys()
                : req.sshPubkeys().isEmpty() ? List.of() : SshPublicKeys.merge(List.of(), req.sshPubkeys());
        boolean ingress = req.ingressEnabled() == null ? source.ingressEnabled() : req.ingressEnabled();
        long quota = source.bandwidthQuotaBytes();
        if (req.bandwidthQuotaBytes() != null) {
            quota = req.bandwidthQuotaBytes();
            if (quota < UNMETERED) {
                throw DomainException.invalid("bandwidth_quota_bytes must be -1 (unmetered) or a byte count, not "
                        + quota);
            }
        }
        return new SandboxRecord("sb_" + Ulid.next(), user.id(), Names.generate(), SandboxStatus.FORKING,
                source.shape(), source.rootfs(), source.vcpu(), source.memMib(), source.diskMib(), null, source.hostId(), ingress,
                source.autoPauseAfterSeconds(), envs, egress, keys, quota, null, now, null, null, null, user.email(),
                source.id(), null, null);
    }

    static boolean startPaused(ForkSandboxRequest req) {
        return Boolean.TRUE.equals(req.startPaused());
    }
}
