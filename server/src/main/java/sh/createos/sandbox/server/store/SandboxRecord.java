package sh.createos.sandbox.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.SandboxStatus;

/** A sandbox row. Immutable: changes go through {@code with…} copies and the state machine. */
public record SandboxRecord(
        String id,
        String userId,
        String name,
        SandboxStatus status,
        String shape,
        String rootfs,
        int vcpu,
        int memMib,
        int diskMib,
        String ip,
        String hostId,
        boolean ingressEnabled,
        Integer autoPauseAfterSeconds,
        Map<String, String> envs,
        List<String> egress,
        List<String> sshPubkeys,
        long bandwidthQuotaBytes,
        Long spawnMs,
        Instant createdAt,
        Instant runningAt,
        Instant destroyedAt,
        String failure,
        String createdBy) {

    public SandboxRecord {
        envs = Map.copyOf(envs);
        egress = List.copyOf(egress);
        sshPubkeys = List.copyOf(sshPubkeys);
    }

    public SandboxRecord withStatus(SandboxStatus newStatus) {
        return new SandboxRecord(id, userId, name, newStatus, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy);
    }

    public SandboxRecord withRunning(String newIp, String newHostId, long newSpawnMs, Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, newIp, newHostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, newSpawnMs,
                createdAt, at, destroyedAt, failure, createdBy);
    }

    public SandboxRecord withDestroyedAt(Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, at, failure, createdBy);
    }

    public SandboxRecord withFailure(String reason) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, reason, createdBy);
    }

    public SandboxRecord withSettings(boolean newIngress, Integer newAutoPause) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                newIngress, newAutoPause, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs, createdAt,
                runningAt, destroyedAt, failure, createdBy);
    }

    public SandboxRecord withDiskMib(int newDiskMib) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, newDiskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy);
    }

    public SandboxRecord withSshPubkeys(List<String> keys) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, keys, bandwidthQuotaBytes, spawnMs, createdAt,
                runningAt, destroyedAt, failure, createdBy);
    }
}
