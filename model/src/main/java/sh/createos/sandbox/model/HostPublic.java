package sh.createos.sandbox.model;

import java.util.List;
import java.util.Map;

/**
 * A worker host: status {@code active}, {@code draining} or {@code dead}; {@code accelerator} {@code kvm} or
 * {@code tcg} (null before the guest kit is there) and why, as the host's accelerator probe found it; its placement
 * {@code labels} (what a create's {@code node_selector} matches; null when it has none).
 */
public record HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses,
                         String accelerator, String acceleratorReason, Map<String, String> labels) {
    /** A host whose accelerator is not known (not probed yet, or not reported). */
    public HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses) {
        this(id, status, freeMib, vmCount, rootfses, null, null, null);
    }

    /** A host without placement labels. */
    public HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses,
                      String accelerator, String acceleratorReason) {
        this(id, status, freeMib, vmCount, rootfses, accelerator, acceleratorReason, null);
    }
}
