package sh.createos.sandbox.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Authenticator;
import sh.createos.sandbox.server.store.ApiKey;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * Issues {@code sk_…} keys (the secret is shown once, only its SHA-256 is stored) and authenticates requests.
 * Like the real control plane it looks at {@code Authorization: Bearer}, {@code X-Auth-Token} and
 * {@code X-Access-Token} before {@code X-Api-Key}; the first credential present is the one that counts.
 */
public final class ApiKeys implements Authenticator {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final List<String> TOKEN_HEADERS = List.of("X-Auth-Token", "X-Access-Token", "X-Api-Key");

    private final Store store;

    public ApiKeys(Store store) {
        this.store = store;
    }

    /** A newly issued key: {@code secret} is the only copy of the key itself. */
    public record Issued(String keyId, String secret) {
        /** The stored form: the hash and the first 8 characters ({@code sk_} and 5 of the secret). */
        public ApiKey record(String userId, String name, Instant at) {
            return new ApiKey(keyId, userId, hash(secret), secret.substring(0, 8), at, null, name);
        }
    }

    public Issued issue(String userId) {
        return issue(userId, null);
    }

    /** A new key named {@code name} (may be null). */
    public Issued issue(String userId, String name) {
        Issued issued = fresh();
        store.createApiKey(issued.record(userId, name, Instant.now()));
        return issued;
    }

    /** A new key not stored yet: {@link Issued#record} is the row to store. */
    public static Issued fresh() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return new Issued("key_" + Ulid.next(), "sk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random));
    }

    @Override
    public User authenticate(HttpFields headers) {
        return authenticateSecret(credential(headers));
    }

    /** The user of a credential however it arrived (a header, a query parameter of a browser WebSocket). */
    public User authenticateSecret(String secret) {
        if (secret == null || secret.isBlank()) {
            throw new DomainException(ErrorCode.UNAUTHORIZED, "missing API key: send it as X-Api-Key");
        }
        ApiKey key = store.apiKeyByHash(hash(secret.strip()))
                .orElseThrow(() -> new DomainException(ErrorCode.UNAUTHORIZED, "invalid API key"));
        if (key.revoked()) {
            throw new DomainException(ErrorCode.UNAUTHORIZED, "API key " + key.id() + " has been revoked");
        }
        return store.user(key.userId()).orElseThrow(() -> new DomainException(ErrorCode.UNAUTHORIZED, "the key's user no longer exists"));
    }

    public static String credential(HttpFields headers) {
        return credentialOf(headers::get);
    }

    /** @param header a request header's value by name, or null */
    public static String credentialOf(java.util.function.Function<String, String> header) {
        String authorization = header.apply("Authorization");
        if (authorization != null) {
            return authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? authorization.substring(7) : authorization;
        }
        for (String name : TOKEN_HEADERS) {
            String value = header.apply(name);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    public static String hash(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
