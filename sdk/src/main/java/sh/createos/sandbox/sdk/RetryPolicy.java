package sh.createos.sandbox.sdk;

import java.time.Duration;
import java.util.Objects;

/**
 * How failed requests are retried, as in the TypeScript SDK: GET, HEAD, PUT, DELETE and keyed POSTs (create, fork,
 * recharge carry an {@code Idempotency-Key}) on network errors and 408/500/502/504; any method on 429/503. The delay
 * is {@code min(base * 2^attempt + random * base, max)}, or the server's {@code Retry-After} when it sends one.
 * Streams are never retried, nor are client timeouts.
 */
public final class RetryPolicy {
    private static final RetryPolicy DEFAULT = new RetryPolicy(2, Duration.ofMillis(500), Duration.ofSeconds(30));
    private static final RetryPolicy NONE = new RetryPolicy(0, Duration.ZERO, Duration.ZERO);

    private final int maxRetries;
    private final Duration baseDelay;
    private final Duration maxDelay;

    private RetryPolicy(int maxRetries, Duration baseDelay, Duration maxDelay) {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
        }
        this.maxRetries = maxRetries;
        this.baseDelay = Objects.requireNonNull(baseDelay, "baseDelay");
        this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
    }

    /** Two retries (three attempts), 500 ms base, 30 s cap. */
    public static RetryPolicy defaults() {
        return DEFAULT;
    }

    /** One attempt only. */
    public static RetryPolicy none() {
        return NONE;
    }

    /** A policy with these limits. */
    public static RetryPolicy of(int maxRetries, Duration baseDelay, Duration maxDelay) {
        return new RetryPolicy(maxRetries, baseDelay, maxDelay);
    }

    /** Retries after the first attempt. */
    public int maxRetries() {
        return maxRetries;
    }

    /** The backoff unit. */
    public Duration baseDelay() {
        return baseDelay;
    }

    /** The backoff cap (a server's {@code Retry-After} is not capped). */
    public Duration maxDelay() {
        return maxDelay;
    }

    /** The jittered exponential delay before retry number {@code attempt + 1}. */
    Duration backoff(int attempt) {
        double base = baseDelay.toMillis();
        double millis = Math.min(base * Math.pow(2, attempt) + Math.random() * base, maxDelay.toMillis());
        return Duration.ofMillis((long) millis);
    }
}
