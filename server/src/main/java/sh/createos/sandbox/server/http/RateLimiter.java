package sh.createos.sandbox.server.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import sh.createos.sandbox.model.ErrorCode;

/**
 * Per-user request rate limit: a token bucket per user that holds {@code burst} requests and refills at
 * {@code perSecond}. An empty bucket answers 429 {@code RATE_LIMITED} with {@code Retry-After} (whole seconds until
 * the next request is allowed, so the SDK's retry waits just long enough). Configured by
 * {@code CREATEOS_SANDBOX_RATE_LIMIT=PER_SECOND,BURST} (or the system property {@code createos.sandbox.rateLimit});
 * {@code 0} turns it off. The default (50/s, bursts of 1,000) is far above what one user's SDK or the test suites send,
 * and still stops one tenant from flooding the control plane for everyone.
 */
public final class RateLimiter {
    static final String ENV = "CREATEOS_SANDBOX_RATE_LIMIT";
    static final String PROPERTY = "createos.sandbox.rateLimit";
    static final String DEFAULT = "50,1000";

    private final double perSecond;
    private final double burst;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimiter(double perSecond, double burst) {
        if (perSecond < 0 || burst < 0 || (perSecond > 0 && burst < 1)) {
            throw new IllegalArgumentException("rate limit must be PER_SECOND,BURST with BURST >= 1, or 0 for none");
        }
        this.perSecond = perSecond;
        this.burst = burst;
    }

    /** From the environment (or system property), else the default. */
    public static RateLimiter fromEnvironment() {
        String text = System.getProperty(PROPERTY, System.getenv().getOrDefault(ENV, DEFAULT)).trim();
        String[] parts = text.split(",");
        try {
            double perSecond = Double.parseDouble(parts[0].trim());
            double burst = parts.length > 1 ? Double.parseDouble(parts[1].trim()) : Math.max(1, perSecond);
            return new RateLimiter(perSecond, burst);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(ENV + " must be PER_SECOND[,BURST], not '" + text + "'", e);
        }
    }

    /** Takes one request from the user's bucket. @throws RateLimitedException the bucket is empty */
    void acquire(String userId) {
        if (perSecond == 0) {
            return;
        }
        double wait = buckets.computeIfAbsent(userId, id -> new Bucket(burst)).take(perSecond, burst);
        if (wait > 0) {
            throw new RateLimitedException((long) Math.ceil(wait));
        }
    }

    private static final class Bucket {
        private double tokens;
        private long refilledNanos = System.nanoTime();

        Bucket(double tokens) {
            this.tokens = tokens;
        }

        /** 0 when a token was taken, else the seconds until one is there. */
        synchronized double take(double perSecond, double burst) {
            long now = System.nanoTime();
            tokens = Math.min(burst, tokens + (now - refilledNanos) / 1e9 * perSecond);
            refilledNanos = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return (1 - tokens) / perSecond;
        }
    }

    /** 429 with the seconds to wait. */
    public static final class RateLimitedException extends ApiException {
        private final long retryAfterSeconds;

        RateLimitedException(long retryAfterSeconds) {
            super(429, ErrorCode.RATE_LIMITED.wire(), "too many requests: try again in " + retryAfterSeconds + " s");
            this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
        }

        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }
}
