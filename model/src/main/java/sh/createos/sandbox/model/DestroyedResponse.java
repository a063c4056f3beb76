package sh.createos.sandbox.model;

/** Data of {@code DELETE /v1/sandboxes/{id}}: {@code destroying} or {@code destroyed}. */
public record DestroyedResponse(String id, SandboxStatus status) {}
