package sh.createos.sandbox.model;

import java.util.List;

/** Data of {@code POST /v1/sandboxes} (spec §4.4): every {@link SandboxView} field plus the bandwidth quota. */
public record CreateSandboxResponse(
        String id,
        SandboxStatus status,
        String ip,
        int vcpu,
        int memMib,
        int diskMib,
        String createdAt,
        boolean ingressEnabled,
        String ingressUrlTemplate,
        String name,
        String runningAt,
        Long spawnMs,
        String shape,
        String rootfs,
        String region,
        List<String> egress,
        List<String> envs,
        List<String> sshPubkeys,
        String createdBy,
        Integer autoPauseAfterSeconds,
        long bandwidthQuotaBytes) {

    public static CreateSandboxResponse of(SandboxView v, long bandwidthQuotaBytes) {
        return new CreateSandboxResponse(v.id(), v.status(), v.ip(), v.vcpu(), v.memMib(), v.diskMib(),
                v.createdAt(), v.ingressEnabled(), v.ingressUrlTemplate(), v.name(), v.runningAt(), v.spawnMs(),
                v.shape(), v.rootfs(), v.region(), v.egress() == null ? List.of() : v.egress(), v.envs(),
                v.sshPubkeys(), v.createdBy(), v.autoPauseAfterSeconds(), bandwidthQuotaBytes);
    }
}
