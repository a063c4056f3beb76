package sh.createos.sandbox.server.lifecycle;

import sh.createos.sandbox.server.DomainException;

/**
 * The range {@code auto_pause_after_seconds} may take (spec §4.3, §4.6: 60-86400). The minimum is a setting of the
 * server ({@code --auto-pause-min-seconds}) so that a deployment, or a test, can allow shorter idle periods.
 */
public record AutoPauseLimits(int minSeconds, int maxSeconds) {
    public static final int SPEC_MIN_SECONDS = 60;
    public static final int SPEC_MAX_SECONDS = 86400;

    public AutoPauseLimits {
        if (minSeconds < 1 || minSeconds > maxSeconds) {
            throw new IllegalArgumentException("auto-pause minimum must be between 1 and " + maxSeconds + " seconds, not "
                    + minSeconds);
        }
    }

    /** @throws DomainException 400 when {@code seconds} is set and out of range */
    public void check(Integer seconds) {
        if (seconds != null && (seconds < minSeconds || seconds > maxSeconds)) {
            throw DomainException.invalid("auto_pause_after_seconds must be between " + minSeconds + " and "
                    + maxSeconds + ", not " + seconds);
        }
    }
}
