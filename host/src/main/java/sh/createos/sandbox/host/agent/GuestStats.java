package sh.createos.sandbox.host.agent;

/**
 * The guest's own figures (the {@code stats} op): CPU in cores used on average over the last {@code cpuWindowMs}
 * (since the previous stats call, at least 250 ms), busy CPU seconds since boot, memory in use (total − available),
 * the root filesystem, and the bytes through every interface but lo.
 */
public record GuestStats(int cpuCount, double cpuCoresUsed, long cpuWindowMs, double cpuSecondsTotal,
        long memoryTotalBytes, long memoryUsedBytes, long diskTotalBytes, long diskUsedBytes, long netRxBytes,
        long netTxBytes, double load1, long uptimeMs, int managedProcesses) {}
