package sh.createos.sandbox.model;

/** {@code GET /v1/sandboxes/{id}/bandwidth} (spec §4.10); {@code -1} quota = unmetered. */
public record BandwidthView(String id, long quotaBytes, long usedBytes, long ingressBytes, long remainingBytes,
                            boolean capped) {

    /** Body of {@code POST …/bandwidth/recharge}. */
    public record RechargeRequest(Long addBytes) {}
}
