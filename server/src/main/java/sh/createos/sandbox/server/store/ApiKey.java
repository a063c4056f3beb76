package sh.createos.sandbox.server.store;

import java.time.Instant;

/** An API key as stored: only the SHA-256 of the secret, and a short prefix to recognise it by. */
public record ApiKey(String id, String userId, String keyHash, String prefix, Instant createdAt, Instant revokedAt) {
    public boolean revoked() {
        return revokedAt != null;
    }
}
