package sh.createos.sandbox.model;

/** Bodies of the unauthenticated probes {@code /healthz} and {@code /readyz}. */
public final class Probes {
    private Probes() {}

    public record Healthz(boolean up) {}

    /** {@code accelerator}: what VMs run with and why, e.g. "tcg (… the kit's kernel did not reach user space under KVM …)". */
    public record Readyz(boolean ready, String reason, Long schedulerLastOkMsAgo, String accelerator) {}
}
