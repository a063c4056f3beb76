package sh.createos.sandbox.server.host;

/** How a VM came to run ({@code boot}, {@code template}, {@code resume}, {@code fork}…) and how long it took. */
public record Started(String how, long tookMs) {}
