package sh.createos.sandbox.server.host;

/** What a host reports on its own, with nobody calling: the control plane acts on these. */
public sealed interface HostEvent {
    String sandboxId();

    /** The sandbox's VM ended without being asked to (QEMU gone, killed, crashed, guest powered off). */
    record VmExited(String sandboxId, String reason) implements HostEvent {}

    /** The guest asked to be paused or deleted ({@code POST 127.0.0.1:1029/self/{pause,delete}}, spec §13). */
    record SelfSignalled(String sandboxId, String action, String reason) implements HostEvent {}

    /** The sandbox's bandwidth quota is spent: nothing leaves it until a recharge. */
    record QuotaReached(String sandboxId) implements HostEvent {}
}
