package sh.createos.sandbox.server.tokens;

import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Authenticator;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * Every credential the API takes: user API keys ({@link ApiKeys}), delegated sandbox tokens ({@code skp_sb_…},
 * scoped by {@link DelegatedScope}) in any auth header, and, on {@code shell-ws} only and only when no auth header
 * is present, {@code ?token=} (a {@link BrowserTickets} ticket, bound to its sandbox, or any other credential).
 */
public final class CallerAuthenticator implements Authenticator {
    static final String SHELL_WS = "/v1/sandboxes/{id}/shell-ws";

    private final ApiKeys apiKeys;
    private final AccessTokens accessTokens;
    private final BrowserTickets tickets;
    private final Store store;

    public CallerAuthenticator(ApiKeys apiKeys, AccessTokens accessTokens, BrowserTickets tickets, Store store) {
        this.apiKeys = apiKeys;
        this.accessTokens = accessTokens;
        this.tickets = tickets;
        this.store = store;
    }

    @Override
    public User authenticate(HttpFields headers) {
        String credential = ApiKeys.credential(headers);
        if (AccessTokens.looksLikeToken(credential)) {
            throw ApiException.forbidden("PERMISSION_DENIED", "delegated token not allowed for this operation");
        }
        return apiKeys.authenticateSecret(credential);
    }

    @Override
    public User authenticate(Request request, Router.Match match) {
        String credential = ApiKeys.credential(request.getHeaders());
        boolean shellWs = SHELL_WS.equals("/" + String.join("/", match.route().pattern()));
        if ((credential == null || credential.isBlank()) && shellWs) {
            try {
                credential = Request.extractQueryParameters(request, StandardCharsets.UTF_8).getValue("token");
            } catch (RuntimeException e) {
                throw ApiException.badRequest("malformed query string: " + e.getMessage());
            }
            if (BrowserTickets.looksLikeTicket(credential)) {
                BrowserTickets.Ticket ticket = tickets.redeem(credential);
                if (!ticket.sandboxId().equals(match.params().get("id"))) {
                    throw ApiException.notFound("sandbox " + match.params().get("id") + " not found");
                }
                return user(ticket.userId());
            }
        }
        if (AccessTokens.looksLikeToken(credential)) {
            AccessTokens.Grant grant = accessTokens.resolve(credential);
            DelegatedScope.check(grant, request.getMethod(), match);
            return user(grant.userId());
        }
        return apiKeys.authenticateSecret(credential);
    }

    private User user(String userId) {
        return store.user(userId).orElseThrow(() -> ApiException.unauthorized("the credential's user no longer exists"));
    }
}
