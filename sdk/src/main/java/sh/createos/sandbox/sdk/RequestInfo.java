package sh.createos.sandbox.sdk;

import java.net.URI;

/**
 * One attempt of a request, as passed to a {@link SandboxClient.Builder#onRequest request listener}.
 *
 * @param method the HTTP method
 * @param uri the full URI
 * @param attempt 0 for the first attempt, then 1, 2… for retries
 */
public record RequestInfo(String method, URI uri, int attempt) {}
