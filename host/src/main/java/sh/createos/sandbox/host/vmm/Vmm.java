package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** A virtual machine monitor driver: boots VMs and finds the ones an earlier process started. */
public interface Vmm {
    /** "qemu", later "firecracker". */
    String name();

    /** Returns once the guest agent answered HELLO; on failure nothing is left behind. */
    Vm boot(VmSpec spec) throws IOException;

    /** Re-attaches to a live VM started by an earlier process; empty (and its leftovers removed) if it is dead. */
    Optional<Vm> attach(String id) throws IOException;

    /** Every live VM under {@code vms/}; dead ones are cleaned up. */
    List<Vm> attachAll() throws IOException;
}
