package sh.createos.sandbox.server.host;

import java.util.Map;
import java.util.Set;

/**
 * What a host holds after its own recovery, for reconcile: the sandboxes whose VM runs and those with a complete
 * snapshot. The host keeps what it found until {@link Host#adopt}, {@link Host#destroyVm} or
 * {@link Host#destroySnapshot} decide each.
 */
public record Inventory(Set<String> running, Map<String, SnapshotRef> paused, Set<String> hostIds) {
    public Inventory {
        running = Set.copyOf(running);
        paused = Map.copyOf(paused);
        hostIds = hostIds == null ? null : Set.copyOf(hostIds);
    }

    /** The inventory of a single machine (it covers every row placed on it). */
    public Inventory(Set<String> running, Map<String, SnapshotRef> paused) {
        this(running, paused, null);
    }

    /**
     * Whether rows placed on {@code hostId} are answered for: a machine that did not answer holds its rows as they are
     * (its VMs may well run on) until it does.
     */
    public boolean covers(String hostId) {
        return hostIds == null || hostIds.contains(hostId);
    }
}
