package sh.createos.sandbox.model;

/** Body of {@code PATCH /v1/sandboxes/{id}} (spec §4.6); omitted fields stay unchanged. */
public record PatchSandboxRequest(Boolean ingressEnabled, Integer autoPauseAfterSeconds, Boolean disableAutoPause) {}
