package sh.createos.sandbox.host.vmm;

/** The accelerator a host runs its VMs with and, for the operator, why (the probe's finding, or what forced it). */
public record AcceleratorChoice(Accelerator accelerator, String reason) {
    @Override
    public String toString() {
        return accelerator.name().toLowerCase() + " (" + reason + ")";
    }
}
