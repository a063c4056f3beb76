package sh.createos.sandbox.sdk;

import java.time.Duration;
import java.util.Optional;
import sh.createos.sandbox.model.ErrorCode;

/** HTTP 429: too many requests (after the retries the client allowed); {@link #retryAfter()} says when to retry. */
public class RateLimitException extends SandboxApiException {
    private static final long serialVersionUID = 1L;
    private final Duration retryAfter;

    /** See {@link SandboxApiException#SandboxApiException}; {@code retryAfter} may be null. */
    public RateLimitException(int statusCode, ErrorCode code, String rawCode, String message, String requestId,
            String method, String endpoint, Duration retryAfter) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
        this.retryAfter = retryAfter;
    }

    /** The server's {@code Retry-After}, when it sent a parsable one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
