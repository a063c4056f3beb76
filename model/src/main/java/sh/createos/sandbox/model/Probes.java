package sh.createos.sandbox.model;

/** Bodies of the unauthenticated probes {@code /healthz} and {@code /readyz}. */
public final class Probes {
    private Probes() {}

    public record Healthz(boolean up) {}

    public record Readyz(boolean ready, String reason, Long schedulerLastOkMsAgo) {}
}
