package sh.createos.sandbox.server.sandbox;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.server.host.EgressRules;
import sh.createos.sandbox.model.CreateSandboxRequest;
import sh.createos.sandbox.model.ErrorCode;
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
    /**
     * Envs go with every exec in one agent request of at most 64 KiB (with the command line): half of it for envs, so
     * an accepted sandbox can always run a command (issue 18: > 64 KiB of envs made every exec a 500).
     */
    static final int MAX_ENV_BYTES = 32 * 1024;

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
        if (req.disks() != null && req.disks().contains(null)) {
            throw DomainException.invalid("'disks' must not contain null");
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

    private static long utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
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
        long bytes = envs.entrySet().stream().mapToLong(e -> utf8Length(e.getKey()) + utf8Length(e.getValue()) + 6)
                .sum();
        if (bytes > MAX_ENV_BYTES) {
            throw new DomainException(ErrorCode.PAYLOAD_TOO_LARGE, "envs take " + bytes
                    + " bytes; at most " + MAX_ENV_BYTES + " are allowed (they go with every exec)");
        }
        return envs;
    }
}
