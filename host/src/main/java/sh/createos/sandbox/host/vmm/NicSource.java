package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.util.Optional;

/**
 * Where a VM's NIC comes from, asked on every boot, restore, resume and fork (so a fork gets its own tap, address and
 * MAC, and the guest always gets the current configuration). {@code HostNetwork} is the real one. A VM without a NIC
 * from here still has the same virtio-net device, on a backend with no connectivity, so that snapshots restore onto
 * the same device layout either way.
 */
@FunctionalInterface
public interface NicSource {
    NicSource NONE = vmId -> Optional.empty();

    Optional<VmNic> nic(String vmId) throws IOException;
}
