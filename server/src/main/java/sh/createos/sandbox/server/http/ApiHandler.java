package sh.createos.sandbox.server.http;

import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.User;

/**
 * The Jetty entry point: request id, CORS, routing, authentication, then the route's handler on a virtual
 * thread; any failure becomes a JSend error unless the response has already started (then the connection is
 * aborted, which is the only honest signal left).
 */
public final class ApiHandler extends Handler.Abstract {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private final Router router;
    private final Authenticator authenticator;
    private final RateLimiter rateLimiter = RateLimiter.fromEnvironment();
    private final RequestObserver observer;

    public ApiHandler(Router router, Authenticator authenticator) {
        this(router, authenticator, RequestObserver.NONE);
    }

    public ApiHandler(Router router, Authenticator authenticator, RequestObserver observer) {
        super(InvocationType.BLOCKING);
        this.router = router;
        this.authenticator = authenticator;
        this.observer = observer;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String requestId = requestId(request.getHeaders());
        response.getHeaders().put("X-Request-Id", requestId);
        Cors.addResponseHeaders(request.getHeaders(), response.getHeaders());
        String method = request.getMethod();
        if (Cors.isPreflight(method, request.getHeaders())) {
            Cors.addPreflightHeaders(request.getHeaders(), response.getHeaders());
            response.setStatus(204);
            callback.succeeded();
            return true;
        }
        Exchange exchange = null;
        long started = System.nanoTime();
        String route = "unmatched";
        try {
            Router.Match match = router.match(method, request.getHttpURI().getPath());
            route = "/" + String.join("/", match.route().pattern());
            User user = match.route().authenticated() ? authenticator.authenticate(request, match)
                    : optionalCaller(request, match);
            if (user != null) {
                rateLimiter.acquire(user.id());
            }
            exchange = new Exchange(request, response, requestId, match.params(), user, callback);
            match.route().handler().handle(exchange);
            if (!exchange.callbackTaken()) {
                callback.succeeded();
            }
            logAccess(requestId, method, request, response, started);
            observer.observe(method, route, response.getStatus(), System.nanoTime() - started);
        } catch (Throwable failure) {
            if (response.isCommitted()) {
                log.warn("request {} {} {} failed after the response started: {}", requestId, method,
                        request.getHttpURI().getPath(), failure.toString());
                callback.failed(failure);
                return true;
            }
            try {
                ErrorMapper.Mapped mapped = ErrorMapper.map(failure, requestId);
                if (failure instanceof RateLimiter.RateLimitedException limited) {
                    response.getHeaders().put("Retry-After", Long.toString(limited.retryAfterSeconds()));
                }
                Exchange errorExchange = exchange != null ? exchange
                        : new Exchange(request, response, requestId, java.util.Map.of(), null, callback);
                errorExchange.send(mapped.status(), mapped.body());
                callback.succeeded();
                logAccess(requestId, method, request, response, started);
                observer.observe(method, route, mapped.status(), System.nanoTime() - started);
            } catch (Throwable sendFailure) {
                callback.failed(sendFailure);
            }
        }
        return true;
    }

    /**
     * The caller of a route that needs no credential, when the request carries a valid one anyway (the rootfs
     * catalog then lists the caller's own templates); null otherwise, never an error.
     */
    private User optionalCaller(Request request, Router.Match match) {
        if (request.getHeaders().get("Authorization") == null && request.getHeaders().get("X-Auth-Token") == null
                && request.getHeaders().get("X-Access-Token") == null && request.getHeaders().get("X-Api-Key") == null) {
            return null;
        }
        try {
            return authenticator.authenticate(request, match);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void logAccess(String requestId, String method, Request request, Response response,
            long started) {
        log.info("{} {} {} -> {} in {} ms", requestId, method, request.getHttpURI().getPath(), response.getStatus(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private static String requestId(HttpFields headers) {
        String fromClient = headers.get("X-Request-Id");
        return fromClient != null && CLIENT_REQUEST_ID.matcher(fromClient).matches() ? fromClient
                : "req_" + Ulid.random();
    }
}
