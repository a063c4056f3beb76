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
        String createdBy,
        String forkedFrom,
        Instant pausedAt,
        Instant lastResumedAt) {

    public SandboxRecord {
        envs = Map.copyOf(envs);
        egress = List.copyOf(egress);
        sshPubkeys = List.copyOf(sshPubkeys);
    }

    /** A row that was never forked, paused or resumed. */
    public SandboxRecord(String id, String userId, String name, SandboxStatus status, String shape, String rootfs,
            int vcpu, int memMib, int diskMib, String ip, String hostId, boolean ingressEnabled,
            Integer autoPauseAfterSeconds, Map<String, String> envs, List<String> egress, List<String> sshPubkeys,
            long bandwidthQuotaBytes, Long spawnMs, Instant createdAt, Instant runningAt, Instant destroyedAt,
            String failure, String createdBy) {
        this(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId, ingressEnabled,
                autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs, createdAt, runningAt,
                destroyedAt, failure, createdBy, null, null, null);
    }

    public SandboxRecord withStatus(SandboxStatus newStatus) {
        return new SandboxRecord(id, userId, name, newStatus, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withRunning(String newIp, String newHostId, Long newSpawnMs, Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, newIp, newHostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, newSpawnMs,
                createdAt, at, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    /** The machine the sandbox is placed on. */
    public SandboxRecord withHostId(String newHostId) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, newHostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs, createdAt,
                runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withDestroyedAt(Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, at, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withFailure(String reason) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, reason, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withSettings(boolean newIngress, Integer newAutoPause) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                newIngress, newAutoPause, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs, createdAt,
                runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withDiskMib(int newDiskMib) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, newDiskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withSshPubkeys(List<String> keys) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, keys, bandwidthQuotaBytes, spawnMs, createdAt,
                runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withPausedAt(Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy, forkedFrom, at, lastResumedAt);
    }

    /** Back to running after a resume: the new spawn time, running since {@code at}. */
    public SandboxRecord withResumed(Long newSpawnMs, Instant at) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, bandwidthQuotaBytes, newSpawnMs,
                createdAt, at, destroyedAt, failure, createdBy, forkedFrom, pausedAt, at);
    }

    public SandboxRecord withEgress(List<String> rules) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, rules, sshPubkeys, bandwidthQuotaBytes, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }

    public SandboxRecord withBandwidthQuotaBytes(long quota) {
        return new SandboxRecord(id, userId, name, status, shape, rootfs, vcpu, memMib, diskMib, ip, hostId,
                ingressEnabled, autoPauseAfterSeconds, envs, egress, sshPubkeys, quota, spawnMs,
                createdAt, runningAt, destroyedAt, failure, createdBy, forkedFrom, pausedAt, lastResumedAt);
    }
}
