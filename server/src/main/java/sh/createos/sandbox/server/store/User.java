package sh.createos.sandbox.server.store;

import java.time.Instant;

/** An account; {@code sandboxLimit} caps its live (not destroyed, not failed) sandboxes. */
public record User(String id, String email, int sandboxLimit, Instant createdAt) {}
