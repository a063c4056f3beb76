package sh.createos.sandbox.server.tunnel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import sh.createos.sandbox.server.http.ApiException;

/** Caps the open long-lived connections (shells, tunnels) per sandbox; over the cap is a 429 before the 101. */
public final class ConnectionLimits {
    private final String what;
    private final int max;
    private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();

    public ConnectionLimits(String what, int max) {
        this.what = what;
        this.max = max;
    }

    /** A slot for one connection; release it exactly once, when the connection ends. */
    public Slot acquire(String sandboxId) {
        AtomicInteger count = open.computeIfAbsent(sandboxId, id -> new AtomicInteger());
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            throw new ApiException(429, "RATE_LIMITED", "more than " + max + " concurrent " + what
                    + " on sandbox " + sandboxId);
        }
        return new Slot(count);
    }

    public static final class Slot implements Runnable {
        private final AtomicInteger count;
        private boolean released;

        private Slot(AtomicInteger count) {
            this.count = count;
        }

        @Override
        public synchronized void run() {
            if (!released) {
                released = true;
                count.decrementAndGet();
            }
        }
    }
}
