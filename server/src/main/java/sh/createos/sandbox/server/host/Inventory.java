package sh.createos.sandbox.server.host;

import java.util.Map;
import java.util.Set;

/**
 * What a host holds after its own recovery, for reconcile: the sandboxes whose VM runs and those with a complete
 * snapshot. The host keeps what it found until {@link Host#adopt}, {@link Host#destroyVm} or
 * {@link Host#destroySnapshot} decide each.
 */
public record Inventory(Set<String> running, Map<String, SnapshotRef> paused) {
    public Inventory {
        running = Set.copyOf(running);
        paused = Map.copyOf(paused);
    }
}
