package sh.createos.sandbox.server.tokens;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.http.ApiException;

/**
 * Short-lived, single-use tickets ({@code wst_…}) for browsers, which cannot set headers on a WebSocket: the page
 * asks for one with its normal credential and puts it in {@code ?token=} of {@code shell-ws}. A ticket opens one
 * shell of one sandbox within {@link #TTL}; it lives in this server's memory only, as a hash.
 */
public final class BrowserTickets {
    public static final String PREFIX = "wst_";
    public static final Duration TTL = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Whom the ticket speaks for, and where. */
    public record Ticket(String sandboxId, String userId, Instant expiresAt) {}

    public record Issued(String token, Instant expiresAt) {}

    private final Map<String, Ticket> byHash = new ConcurrentHashMap<>();

    public static boolean looksLikeTicket(String credential) {
        return credential != null && credential.startsWith(PREFIX);
    }

    public Issued issue(String sandboxId, String userId) {
        evictExpired();
        byte[] random = new byte[24];
        RANDOM.nextBytes(random);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        Instant expires = Instant.now().plus(TTL);
        byHash.put(ApiKeys.hash(token), new Ticket(sandboxId, userId, expires));
        return new Issued(token, expires);
    }

    /** Consumes the ticket. @throws ApiException 401 unknown, used or expired */
    public Ticket redeem(String token) {
        Ticket ticket = byHash.remove(ApiKeys.hash(token.strip()));
        if (ticket == null || ticket.expiresAt().isBefore(Instant.now())) {
            throw ApiException.unauthorized("invalid, used or expired shell ticket: ask for a new one");
        }
        return ticket;
    }

    private void evictExpired() {
        Instant now = Instant.now();
        for (Iterator<Ticket> it = byHash.values().iterator(); it.hasNext(); ) {
            if (it.next().expiresAt().isBefore(now)) {
                it.remove();
            }
        }
    }
}
