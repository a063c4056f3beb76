package sh.createos.sandbox.server.http;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/** CORS for browser users of the SDK: credentials travel in headers, never cookies, so any origin may call. */
final class Cors {
    static final String ALLOWED_HEADERS = "X-Api-Key, X-Fc-Runtime, Content-Type, User-Agent, Authorization, "
            + "X-Auth-Token, X-Access-Token";
    static final String EXPOSED_HEADERS = "X-Request-Id, Retry-After";
    static final String ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

    private Cors() {}

    static boolean isPreflight(String method, HttpFields requestHeaders) {
        return method.equals("OPTIONS") && requestHeaders.contains(HttpHeader.ACCESS_CONTROL_REQUEST_METHOD);
    }

    static void addResponseHeaders(HttpFields requestHeaders, HttpFields.Mutable responseHeaders) {
        if (!requestHeaders.contains(HttpHeader.ORIGIN)) {
            return;
        }
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
    }

    /** Allows the SDK's headers plus whatever else the browser asks for (callers may add their own auth headers). */
    static void addPreflightHeaders(HttpFields requestHeaders, HttpFields.Mutable responseHeaders) {
        String requested = requestHeaders.get(HttpHeader.ACCESS_CONTROL_REQUEST_HEADERS);
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS,
                requested == null || requested.isBlank() ? ALLOWED_HEADERS : ALLOWED_HEADERS + ", " + requested);
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
        responseHeaders.put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "600");
    }
}
