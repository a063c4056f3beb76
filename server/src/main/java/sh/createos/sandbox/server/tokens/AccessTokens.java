package sh.createos.sandbox.server.tokens;

import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.store.AccessTokenRecord;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Delegated sandbox access tokens (interactive-api.md §8): at most one per sandbox, {@code skp_sb_…}, shown only
 * by create and rotate, stored as a SHA-256. A token dies with its sandbox: one whose sandbox is destroyed (or
 * being destroyed) is deleted the moment it is presented, and never authenticates.
 */
public final class AccessTokens {
    public static final String PREFIX = "skp_sb_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Store store;

    public AccessTokens(Store store) {
        this.store = store;
    }

    /** Who a valid token speaks for. */
    public record Grant(String sandboxId, String userId) {}

    public static boolean looksLikeToken(String credential) {
        return credential != null && credential.startsWith(PREFIX);
    }

    /** @throws ApiException 409 when the sandbox already has a token (rotate it instead) */
    public Map<String, Object> create(SandboxRecord sandbox) {
        String token = newToken();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        if (!store.insertAccessToken(new AccessTokenRecord(sandbox.id(), sandbox.userId(), ApiKeys.hash(token),
                hint(token), now, null))) {
            throw ApiException.conflict("INVALID_STATE", "sandbox " + sandbox.id()
                    + " already has an access token: rotate it instead");
        }
        return created(token, now, null);
    }

    /** @throws ApiException 404 when the sandbox has no token */
    public Map<String, Object> rotate(SandboxRecord sandbox) {
        AccessTokenRecord current = store.accessToken(sandbox.id())
                .orElseThrow(() -> ApiException.notFound("sandbox " + sandbox.id() + " has no access token"));
        String token = newToken();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        AccessTokenRecord rotated = new AccessTokenRecord(current.sandboxId(), current.userId(),
                ApiKeys.hash(token), hint(token), current.createdAt(), now);
        if (!store.replaceAccessToken(rotated)) {
            throw ApiException.notFound("sandbox " + sandbox.id() + " has no access token");
        }
        return created(token, current.createdAt(), now);
    }

    public Map<String, Object> metadata(SandboxRecord sandbox) {
        Map<String, Object> view = new LinkedHashMap<>();
        if (sandbox.status() == SandboxStatus.DESTROYED || sandbox.status() == SandboxStatus.DESTROYING) {
            store.deleteAccessToken(sandbox.id());
        }
        Optional<AccessTokenRecord> token = store.accessToken(sandbox.id());
        view.put("enabled", token.isPresent());
        token.ifPresent(t -> {
            view.put("token_hint", t.tokenHint());
            view.put("created_at", t.createdAt().toString());
            if (t.rotatedAt() != null) {
                view.put("rotated_at", t.rotatedAt().toString());
            }
        });
        return view;
    }

    /** Idempotent: disabling a sandbox without a token succeeds too. */
    public Map<String, Object> delete(SandboxRecord sandbox) {
        store.deleteAccessToken(sandbox.id());
        return Map.of("enabled", false);
    }

    /** @throws ApiException 401 for an unknown token, or one whose sandbox is gone (then it is deleted) */
    public Grant resolve(String token) {
        AccessTokenRecord record = store.accessTokenByHash(ApiKeys.hash(token.strip()))
                .orElseThrow(() -> ApiException.unauthorized("invalid or revoked sandbox access token"));
        SandboxStatus status = store.sandbox(record.sandboxId()).map(SandboxRecord::status)
                .orElse(SandboxStatus.DESTROYED);
        if (status == SandboxStatus.DESTROYED || status == SandboxStatus.DESTROYING) {
            store.deleteAccessToken(record.sandboxId());
            throw ApiException.unauthorized("the sandbox of this access token was destroyed, which revoked it");
        }
        return new Grant(record.sandboxId(), record.userId());
    }

    private static Map<String, Object> created(String token, Instant createdAt, Instant rotatedAt) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("token", token);
        view.put("enabled", true);
        view.put("created_at", createdAt.toString());
        if (rotatedAt != null) {
            view.put("rotated_at", rotatedAt.toString());
        }
        return view;
    }

    private static String newToken() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** First 9 characters, "...", last 4 (interactive-api.md §11). */
    static String hint(String token) {
        return token.substring(0, 9) + "..." + token.substring(token.length() - 4);
    }
}
