package sh.createos.sandbox.host.agent;

/** How a process ended: {@code code} is its exit code, or 128+signo with {@code signal} ("KILL", …) when a signal killed it. */
public record ExitStatus(int code, String signal) {}
