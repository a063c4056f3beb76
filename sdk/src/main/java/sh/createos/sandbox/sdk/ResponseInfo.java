package sh.createos.sandbox.sdk;

import java.net.URI;
import java.time.Duration;

/**
 * One response (headers received), as passed to a {@link SandboxClient.Builder#onResponse response listener}.
 *
 * @param method the HTTP method
 * @param uri the full URI
 * @param attempt 0 for the first attempt
 * @param statusCode the HTTP status
 * @param requestId the server's {@code X-Request-Id}, or null
 * @param elapsed time from sending to the headers
 */
public record ResponseInfo(String method, URI uri, int attempt, int statusCode, String requestId, Duration elapsed) {}
