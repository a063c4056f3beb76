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
    public record Issued(String keyId, String secret) {}

    public Issued issue(String userId) {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        String secret = "sk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String keyId = "key_" + Ulid.next();
        store.createApiKey(new ApiKey(keyId, userId, hash(secret), secret.substring(0, 8), Instant.now(), null));
        return new Issued(keyId, secret);
    }

    @Override
    public User authenticate(HttpFields headers) {
        String secret = credential(headers);
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

    private static String credential(HttpFields headers) {
        String authorization = headers.get("Authorization");
        if (authorization != null) {
            return authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? authorization.substring(7) : authorization;
        }
        for (String header : TOKEN_HEADERS) {
            String value = headers.get(header);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    static String hash(String secret) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
