package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** A virtual machine monitor driver: boots VMs and finds the ones an earlier process started. */
public interface Vmm {
    /** "qemu", later "firecracker". */
    String name();

    /**
     * Returns once the guest agent answered HELLO; on failure nothing is left behind. Restores the template snapshot
     * of the spec's image, vcpus and memory when there is one (building it on the first boot), otherwise boots;
     * {@link Vm#start()} says which.
     */
    Vm boot(VmSpec spec) throws IOException;

    /**
     * Starts {@code paused} again from its snapshot under the same id and disk, sets the guest's clock to the
     * host's, and returns once the agent answered HELLO. The paused VM is gone afterwards. On failure it stays
     * paused and unchanged.
     */
    Vm resume(PausedVm paused) throws IOException;

    /**
     * Restores a new VM {@code child} (its own id and hostname, a new disk overlay on top of the source's frozen
     * disk) from the memory snapshot of {@code source}, which stays paused and untouched. {@code child}'s image,
     * vcpus and memMib must equal the source's, its diskMib at least the source's (the disk grows after the
     * restore). On failure nothing of the child is left behind.
     */
    Vm fork(PausedVm source, VmSpec child) throws IOException;

    /** The paused VM {@code id}, if there is one with a complete snapshot. */
    Optional<PausedVm> findPaused(String id) throws IOException;

    /**
     * Every paused VM. Like {@link #attachAll()}, first finishes or rolls back what a crashed process left half done:
     * an unfinished pause of a running VM is cancelled (the VM runs on), an unfinished pause of a dead VMM is removed,
     * an unfinished resume is undone (the VM stays paused), and disk layers nothing refers to are deleted.
     */
    List<PausedVm> pausedAll() throws IOException;

    /**
     * Re-attaches to a live VM started by an earlier process; empty (and its leftovers removed) if it is dead. A
     * paused VM is not attached (empty) and left alone: see {@link #findPaused}.
     */
    Optional<Vm> attach(String id) throws IOException;

    /** Every live VM under {@code vms/}; dead ones are cleaned up, paused ones left alone, half-done pauses recovered. */
    List<Vm> attachAll() throws IOException;

    /**
     * Removes what a boot or fork of VM {@code id} left when the process that started it died before the VM came up
     * (a directory without a live VMM or a snapshot, which {@link #attachAll()} leaves alone while it is young, as
     * another process may still be booting it). For a caller that knows no such boot is under way; a no-op when
     * there is nothing, refused for a running or paused VM.
     */
    void discard(String id) throws IOException;

    /**
     * For a VM whose owner is being destroyed: kills its VMM without asking it (one that hangs, or whose agent is
     * gone, is no reason to keep it) and removes its directory in whatever state a crash left it (no pid file, half
     * deleted). A paused VM's snapshot is left to {@link PausedVm#destroy}. A no-op when there is nothing.
     */
    void forceDestroy(String id) throws IOException;
}
