package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Path;
import sh.createos.sandbox.host.agent.AgentClient;

/** One running VM: its own VMM process and directory, and a connected agent. */
public interface Vm extends AutoCloseable {
    String id();

    VmSpec spec();

    /** The VMM process. */
    long pid();

    /** {@code <data>/vms/<id>/}. */
    Path dir();

    /** Connected, HELLO done. */
    AgentClient agent();

    boolean isAlive();

    /**
     * Calls {@code reason} (at most once per cause, on a thread of the VM's) when the VM signals that it ended: the
     * VMM's {@code SHUTDOWN} event or its control socket closing. Also fires for a pause or destroy of our own, which
     * the caller tells apart; process liveness is {@link #isAlive()}.
     */
    default void onExit(java.util.function.Consumer<String> reason) {}

    /** How this VM started (cold boot, template restore, resume, fork) and how long it took. */
    VmStart start();

    /** Grows the root disk to {@code newDiskMib} and then the guest's filesystem on it. */
    default void resizeDisk(int newDiskMib) throws IOException {
        resizeDisk(newDiskMib, agent());
    }

    /** The same, growing the filesystem through {@code through} (another session with this VM's agent). */
    void resizeDisk(int newDiskMib, AgentClient through) throws IOException;

    /**
     * Stops the vCPUs, saves memory and device state, freezes the disk and ends the VMM process: the returned
     * {@link PausedVm} holds no CPU or RAM. Streams open on {@link #agent()} end (the agent starts a new session on
     * resume, which aborts them, killing processes that an {@code exec} still holds). On failure the VM keeps running
     * as before (or, if its VMM died, {@link #isAlive()} is false) and no snapshot is left behind. This object is
     * unusable after a successful pause.
     */
    PausedVm pause() throws IOException;

    /** Kills the VMM and removes {@code vms/<id>/}: nothing is left behind. */
    void destroy() throws IOException;

    /** Detaches only: the VM keeps running and can be attached again. */
    @Override
    void close();
}
