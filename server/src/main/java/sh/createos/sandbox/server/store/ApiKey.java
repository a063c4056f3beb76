package sh.createos.sandbox.server.store;

import java.time.Instant;

/**
 * An API key as stored: only the SHA-256 of the secret, a short prefix to recognise it by, and an optional
 * {@code name} its owner gave it.
 */
public record ApiKey(String id, String userId, String keyHash, String prefix, Instant createdAt, Instant revokedAt,
        String name) {
    public ApiKey(String id, String userId, String keyHash, String prefix, Instant createdAt, Instant revokedAt) {
        this(id, userId, keyHash, prefix, createdAt, revokedAt, null);
    }

    public boolean revoked() {
        return revokedAt != null;
    }
}
