package sh.createos.sandbox.server.lifecycle;

import sh.createos.sandbox.host.vmm.Vm;

/** Told when the control plane starts or stops holding a sandbox's running VM. */
public interface RunningVmListener {
    /** After a create, resume, fork or re-attach at start. */
    void held(String sandboxId, Vm vm);

    /** After a pause, destroy, failure, or when the server stops (the VM itself may run on). */
    void released(String sandboxId);
}
