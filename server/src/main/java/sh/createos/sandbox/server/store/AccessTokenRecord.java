package sh.createos.sandbox.server.store;

import java.time.Instant;

/** A sandbox's delegated access token as stored: the SHA-256 of the secret, never the secret itself. */
public record AccessTokenRecord(String sandboxId, String userId, String tokenHash, String tokenHint,
        Instant createdAt, Instant rotatedAt) {}
