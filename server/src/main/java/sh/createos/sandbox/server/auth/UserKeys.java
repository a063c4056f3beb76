package sh.createos.sandbox.server.auth;

import java.time.Instant;
import java.util.List;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.ApiKey;
import sh.createos.sandbox.server.store.KeyRevocation;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * A signed-in user's own API keys ({@code /v1/keys}): list, create (the secret is returned once and never again),
 * revoke. Another user's key is as unknown as a missing one, and the user's last active key cannot be revoked,
 * so a user cannot lock themselves out through the API (the operator's {@code key revoke} still can).
 */
public final class UserKeys {
    /** Active keys per user: enough for every laptop and pipeline, small enough that a leaked key cannot mint without bound. */
    public static final int ACTIVE_LIMIT = 50;
    public static final int NAME_MAX = 64;

    private final Store store;

    public UserKeys(Store store) {
        this.store = store;
    }

    /** A key as its owner sees it: never the secret, never the hash. {@code current} marks the calling key. */
    public record KeyView(String id, String name, String prefix, String createdAt, String revokedAt, boolean current) {
        static KeyView of(ApiKey k, String callerHash) {
            return new KeyView(k.id(), k.name(), k.prefix(), k.createdAt().toString(),
                    k.revokedAt() == null ? null : k.revokedAt().toString(), k.keyHash().equals(callerHash));
        }
    }

    /** The answer to a create: the only time {@code key} (the secret) is ever shown. */
    public record CreatedKey(String id, String name, String prefix, String createdAt, String key) {}

    /** @param callerSecret the credential of this request, to mark the key in use (null: none) */
    public List<KeyView> list(User user, String callerSecret) {
        String callerHash = callerSecret == null ? "" : ApiKeys.hash(callerSecret.strip());
        return store.apiKeys(user.id()).stream().map(k -> KeyView.of(k, callerHash)).toList();
    }

    public CreatedKey create(User user, String name) {
        String label = name(name);
        ApiKeys.Issued issued = ApiKeys.fresh();
        ApiKey row = issued.record(user.id(), label, Instant.now());
        if (!store.createApiKeyWithin(row, ACTIVE_LIMIT)) {
            throw DomainException.invalidState("you already have " + ACTIVE_LIMIT + " active API keys: revoke one first");
        }
        return new CreatedKey(row.id(), row.name(), row.prefix(), row.createdAt().toString(), issued.secret());
    }

    /** Revoking an already revoked key changes nothing and answers as the first time did (DELETE is retried). */
    public KeyView revoke(User user, String keyId, String callerSecret) {
        KeyRevocation outcome = store.revokeOwnApiKey(user.id(), keyId, Instant.now());
        switch (outcome) {
            case NOT_FOUND -> throw DomainException.notFound("API key " + keyId + " not found");
            case LAST_ACTIVE_KEY -> throw DomainException.invalidState("API key " + keyId
                    + " is your only active key: create another one before revoking it");
            case REVOKED, ALREADY_REVOKED -> { }
        }
        return list(user, callerSecret).stream().filter(k -> k.id().equals(keyId)).findFirst()
                .orElseThrow(() -> DomainException.notFound("API key " + keyId + " not found"));
    }

    private static String name(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        String n = name.strip();
        if (n.length() > NAME_MAX) {
            throw DomainException.invalid("'name' is at most " + NAME_MAX + " characters");
        }
        if (n.chars().anyMatch(Character::isISOControl)) {
            throw DomainException.invalid("'name' must not contain control characters");
        }
        return n;
    }
}
