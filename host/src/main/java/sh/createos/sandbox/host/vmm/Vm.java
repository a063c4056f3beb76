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

    /** Grows the root disk to {@code newDiskMib} and then the guest's filesystem on it. */
    void resizeDisk(int newDiskMib) throws IOException;

    /** Kills the VMM and removes {@code vms/<id>/}: nothing is left behind. */
    void destroy() throws IOException;

    /** Detaches only: the VM keeps running and can be attached again. */
    @Override
    void close();
}
