package sh.createos.sandbox.server.host;

/**
 * A sandbox's traffic (spec §4.10): {@code usedBytes} left it (counted against {@code quotaBytes}, -1 = unmetered),
 * {@code ingressBytes} came in; {@code capped}: the quota is spent.
 */
public record Traffic(long quotaBytes, long usedBytes, long ingressBytes, boolean capped) {
    public static final long UNMETERED = -1;

    public long remainingBytes() {
        if (quotaBytes == UNMETERED) {
            return -1;
        }
        return capped ? 0 : Math.max(0, quotaBytes - usedBytes);
    }
}
