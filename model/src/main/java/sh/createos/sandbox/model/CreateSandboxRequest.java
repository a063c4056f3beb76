package sh.createos.sandbox.model;

import java.util.List;
import java.util.Map;

/** Body of {@code POST /v1/sandboxes} (spec §4.3). Only {@code shape} is required. */
public record CreateSandboxRequest(
        String shape,
        String rootfs,
        String name,
        List<NetworkRef> networks,
        Integer diskMib,
        List<String> egress,
        Map<String, String> envs,
        List<String> sshPubkeys,
        String hostId,
        Map<String, String> nodeSelector,
        Boolean ingressEnabled,
        List<DiskAttachment> disks,
        String region,
        Integer autoPauseAfterSeconds,
        Long bandwidthQuotaBytes) {

    public record NetworkRef(String id) {}

    public record DiskAttachment(String diskId, String mountPath, String subPath) {}
}
