package sh.createos.sandbox.host.net;

/** Who a lease belongs to, for name resolution on private networks: the sandbox id ({@code sb_…}) and its name. */
public record SandboxIdentity(String sandboxId, String name) {
    public SandboxIdentity {
        if (sandboxId == null || sandboxId.isBlank()) {
            throw new IllegalArgumentException("sandbox id is required");
        }
    }
}
