package sh.createos.sandbox.server.http;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Request;
import sh.createos.sandbox.server.store.User;

/** Resolves the caller of an authenticated route from the request headers. */
public interface Authenticator {
    /** @throws ApiException 401 when no valid credential is present */
    User authenticate(HttpFields headers);

    /**
     * The caller of {@code match}'s route: authenticators that scope a credential to some routes (delegated
     * sandbox tokens) or read it from the query (browser WebSockets) override this.
     *
     * @throws ApiException 401 no valid credential, 403 outside the credential's scope, 404 another sandbox
     */
    default User authenticate(Request request, Router.Match match) {
        return authenticate(request.getHeaders());
    }
}
