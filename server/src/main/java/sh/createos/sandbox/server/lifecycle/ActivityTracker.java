package sh.createos.sandbox.server.lifecycle;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * When each sandbox last showed activity, for idle auto-pause (spec §14.3). Callers either {@link #touch} a
 * sandbox (a request, a proxied connection, bytes through a tunnel) or hold it {@link #busy} for as long as an
 * operation runs (a streamed exec, a long download): a busy sandbox is never idle.
 */
public final class ActivityTracker {
    private final LongSupplier nanoClock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    private static final class Entry {
        long lastActiveNanos;
        int busy;

        Entry(long now) {
            lastActiveNanos = now;
        }
    }

    public ActivityTracker() {
        this(System::nanoTime);
    }

    ActivityTracker(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** The sandbox did something just now. */
    public void touch(String sandboxId) {
        long now = nanoClock.getAsLong();
        entries.compute(sandboxId, (id, e) -> {
            Entry entry = e == null ? new Entry(now) : e;
            entry.lastActiveNanos = now;
            return entry;
        });
    }

    /** Marks the sandbox active until the returned handle is closed; nest freely. */
    public Busy busy(String sandboxId) {
        long now = nanoClock.getAsLong();
        entries.compute(sandboxId, (id, e) -> {
            Entry entry = e == null ? new Entry(now) : e;
            entry.busy++;
            entry.lastActiveNanos = now;
            return entry;
        });
        return new Busy(sandboxId);
    }

    /** An operation in progress; {@link #close()} ends it (once) and counts as activity. */
    public final class Busy implements AutoCloseable {
        private final String sandboxId;
        private boolean closed;

        private Busy(String sandboxId) {
            this.sandboxId = sandboxId;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            long now = nanoClock.getAsLong();
            entries.computeIfPresent(sandboxId, (id, entry) -> {
                entry.busy--;
                entry.lastActiveNanos = now;
                return entry;
            });
        }
    }

    /**
     * Nanoseconds since the sandbox's last activity, 0 while it is busy. A sandbox never seen counts as active
     * now (the clock starts when a server first looks, e.g. after a restart or a resume).
     */
    public long idleNanos(String sandboxId) {
        long now = nanoClock.getAsLong();
        long[] idle = new long[1];
        entries.compute(sandboxId, (id, e) -> {
            Entry entry = e == null ? new Entry(now) : e;
            idle[0] = entry.busy > 0 ? 0 : Math.max(0, now - entry.lastActiveNanos);
            return entry;
        });
        return idle[0];
    }

    /** The sandbox stopped running (paused, destroyed): its idle clock starts again when it runs again. */
    public void forget(String sandboxId) {
        entries.computeIfPresent(sandboxId, (id, entry) -> entry.busy > 0 ? entry : null);
    }
}
