package sh.createos.sandbox.model;

import java.util.List;

/** The full sandbox projection (spec §4.2). Null components are optional and left out of the JSON. */
public record SandboxView(
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
        String destroyedAt,
        Long spawnMs,
        String shape,
        String rootfs,
        String region,
        List<String> egress,
        List<String> envs,
        List<String> sshPubkeys,
        String createdBy,
        Long bandwidthIngressBytes,
        String pausedAt,
        String lastResumedAt,
        String forkedFrom,
        Integer autoPauseAfterSeconds) {}
