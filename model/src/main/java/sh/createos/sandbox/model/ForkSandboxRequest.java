package sh.createos.sandbox.model;

import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST /v1/sandboxes/{id}/fork} (spec §4.5). Every field is optional; an omitted one is inherited
 * from the source sandbox.
 */
public record ForkSandboxRequest(
        Boolean startPaused,
        List<String> sshPubkeys,
        List<String> egress,
        Boolean ingressEnabled,
        Map<String, String> envs,
        Long bandwidthQuotaBytes) {}
