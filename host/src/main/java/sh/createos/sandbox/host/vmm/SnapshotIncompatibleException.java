package sh.createos.sandbox.host.vmm;

/** A snapshot was taken on a CPU this host does not offer (see {@link CpuIdentity}); it stays as it was. */
public final class SnapshotIncompatibleException extends SnapshotException {
    public SnapshotIncompatibleException(String message) {
        super(message, null);
    }
}
