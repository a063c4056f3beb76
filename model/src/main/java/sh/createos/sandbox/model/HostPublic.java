package sh.createos.sandbox.model;

import java.util.List;

/**
 * A worker host: status {@code active}, {@code draining} or {@code dead}; {@code accelerator} {@code kvm} or
 * {@code tcg} (null before the guest kit is there) and why, as the host's accelerator probe found it.
 */
public record HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses,
                         String accelerator, String acceleratorReason) {
    /** A host whose accelerator is not known (not probed yet, or not reported). */
    public HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses) {
        this(id, status, freeMib, vmCount, rootfses, null, null);
    }
}
