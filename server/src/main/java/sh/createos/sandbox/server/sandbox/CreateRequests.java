package sh.createos.sandbox.server.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.server.host.EgressRules;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.Shape;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * What a create request may ask for (spec §4.3), and the defaults it gets; {@code auto_pause_after_seconds} is
 * checked by the service against the server's {@link sh.createos.sandbox.server.lifecycle.AutoPauseLimits}.
 */
public final class CreateRequests {
    static final String DEFAULT_ROOTFS = "devbox:1";
    static final int MAX_DISK_MIB = 1024 * 1024;
    private static final int MAX_ENVS = 256;

    private CreateRequests() {}

    /** The {@code creating} row a valid request asks for. @throws DomainException 400 naming the bad field */
    static SandboxRecord newRow(User user, CreateSandboxRequest req, List<String> images,
            java.util.function.Predicate<String> knownHost, Instant now) {
        if (req.shape() == null || req.shape().isBlank()) {
            throw DomainException.invalid("'shape' is required");
        }
        Shape shape = Shapes.find(req.shape()).orElseThrow(() -> DomainException.invalid("unknown shape '"
                + req.shape() + "'; see GET /v1/shapes"));
        String rootfs = req.rootfs() == null || req.rootfs().isBlank() ? DEFAULT_ROOTFS : req.rootfs();
        if (!images.isEmpty() && !images.contains(rootfs)) {
            throw DomainException.invalid("unknown rootfs '" + rootfs + "'; available: " + images);
        }
        int diskMib = req.diskMib() == null || req.diskMib() == 0 ? shape.defaultDiskMib() : req.diskMib();
        if (diskMib < 0 || diskMib > MAX_DISK_MIB) {
            throw DomainException.invalid("disk_mib must be between 1 and " + MAX_DISK_MIB + ", not " + diskMib);
        }
        if (req.bandwidthQuotaBytes() != null && req.bandwidthQuotaBytes() != 0) {
            throw DomainException.invalid("bandwidth_quota_bytes cannot be set at create; the default quota applies");
        }
        if (req.region() != null && !req.region().isEmpty() && !req.region().equals(SandboxViews.REGION)) {
            throw DomainException.invalid("region '" + req.region() + "' is not this server's region '"
                    + SandboxViews.REGION + "'");
        }
        if (req.disks() != null && !req.disks().isEmpty()) {
            throw DomainException.invalid("unknown disk '" + req.disks().get(0).diskId() + "'");
        }
        String requestedHost = req.hostId() == null || req.hostId().isEmpty() ? null : req.hostId();
        if (requestedHost != null && !knownHost.test(requestedHost)) {
            throw DomainException.invalid("unknown host '" + req.hostId() + "'");
        }
        List<String> egress = checkEgress(req.egress());
        Map<String, String> envs = checkEnvs(req.envs());
        List<String> keys = req.sshPubkeys() == null || req.sshPubkeys().isEmpty() ? List.of()
                : SshPublicKeys.merge(List.of(), req.sshPubkeys());
        String name = req.name() == null || req.name().isEmpty() ? Names.generate() : Names.check(req.name());
        return new SandboxRecord("sb_" + Ulid.next(), user.id(), name, SandboxStatus.CREATING, shape.id(), rootfs,
                shape.vcpu(), shape.memMib(), diskMib, null, requestedHost, Boolean.TRUE.equals(req.ingressEnabled()),
                req.autoPauseAfterSeconds(), envs, egress, keys, SandboxService.DEFAULT_BANDWIDTH_QUOTA, null, now,
                null, null, null, user.email());
    }

    /**
     * The allowlist to store for a requested one (create, fork, PUT egress): its rules, or {@code []} when open
     * ({@code null}, {@code []}, or any list holding {@code "*"}).
     *
     * @throws DomainException 400 naming the first malformed rule
     */
    public static List<String> checkEgress(List<String> egress) {
        if (egress != null && egress.contains(null)) {
            throw DomainException.invalid("egress rules must be strings, not null");
        }
        try {
            return EgressRules.check(egress);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid("invalid egress rule: " + e.getMessage());
        }
    }

    static Map<String, String> checkEnvs(Map<String, String> envs) {
        if (envs == null) {
            return Map.of();
        }
        if (envs.size() > MAX_ENVS) {
            throw DomainException.invalid("at most " + MAX_ENVS + " envs");
        }
        envs.forEach((name, value) -> {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw DomainException.invalid("invalid env name '" + name + "'");
            }
            if (value == null || value.indexOf('\0') >= 0) {
                throw DomainException.invalid("env " + name + " needs a string value without NUL");
            }
        });
        return envs;
    }
}
