package sh.createos.sandbox.server.http;

import org.eclipse.jetty.http.HttpFields;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.User;

/** Resolves the caller of an authenticated route from the request headers. */
public interface Authenticator {
    /** @throws DomainException 401 when no valid credential is present */
    User authenticate(HttpFields headers);
}
