package sh.createos.sandbox.host.net;

/**
 * A sandbox's traffic (spec §4.10): {@code usedBytes} left the sandbox (counted against {@code quotaBytes}, -1 =
 * unmetered), {@code ingressBytes} came in (reported, never enforced); {@code capped}: the quota is exhausted and
 * nothing leaves the sandbox until a recharge.
 */
public record Bandwidth(long quotaBytes, long usedBytes, long ingressBytes, boolean capped) {
    public static final long UNMETERED = -1;
    public static final long DEFAULT_QUOTA = 10L * 1024 * 1024 * 1024;

    public long remainingBytes() {
        if (quotaBytes == UNMETERED) {
            return -1;
        }
        return capped ? 0 : Math.max(0, quotaBytes - usedBytes);
    }
}
