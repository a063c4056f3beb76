package sh.createos.sandbox.server.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.server.DomainException;

/** The idle clock of auto-pause, on a clock the test moves. */
class ActivityTrackerTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final ActivityTracker tracker = new ActivityTracker(now::get);

    @Test
    void idleTimeRunsFromTheFirstLookAndRestartsOnEachTouch() {
        assertThat(tracker.idleNanos("sb_a")).isZero();
        now.addAndGet(500);
        assertThat(tracker.idleNanos("sb_a")).isEqualTo(500);
        tracker.touch("sb_a");
        now.addAndGet(200);
        assertThat(tracker.idleNanos("sb_a")).isEqualTo(200);
        assertThat(tracker.idleNanos("sb_b")).as("another sandbox has its own clock").isZero();
    }

    @Test
    void aBusySandboxIsNeverIdleAndItsEndCountsAsActivity() {
        ActivityTracker.Busy outer = tracker.busy("sb_a");
        ActivityTracker.Busy inner = tracker.busy("sb_a");
        now.addAndGet(10_000);
        assertThat(tracker.idleNanos("sb_a")).isZero();
        inner.close();
        inner.close(); // a second close changes nothing
        now.addAndGet(10_000);
        assertThat(tracker.idleNanos("sb_a")).as("still held by the outer operation").isZero();
        outer.close();
        now.addAndGet(300);
        assertThat(tracker.idleNanos("sb_a")).isEqualTo(300);
    }

    @Test
    void forgettingRestartsTheClockButNotUnderARunningOperation() {
        tracker.touch("sb_a");
        now.addAndGet(700);
        tracker.forget("sb_a");
        now.addAndGet(100);
        assertThat(tracker.idleNanos("sb_a")).isZero();
        try (ActivityTracker.Busy busy = tracker.busy("sb_b")) {
            tracker.forget("sb_b");
            now.addAndGet(100);
            assertThat(tracker.idleNanos("sb_b")).isZero();
        }
    }

    @Test
    void theRangeIsTheSpecsUnlessTheServerAllowsShorter() {
        AutoPauseLimits spec = new AutoPauseLimits(AutoPauseLimits.SPEC_MIN_SECONDS, AutoPauseLimits.SPEC_MAX_SECONDS);
        spec.check(null);
        spec.check(60);
        spec.check(86400);
        assertThatThrownBy(() -> spec.check(59)).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.getMessage()).contains("between 60 and 86400"));
        assertThatThrownBy(() -> spec.check(86401)).isInstanceOf(DomainException.class);
        new AutoPauseLimits(2, AutoPauseLimits.SPEC_MAX_SECONDS).check(2);
        assertThatThrownBy(() -> new AutoPauseLimits(0, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
