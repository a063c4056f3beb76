package sh.createos.sandbox.server.lifecycle;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Idle auto-pause (spec §14.3): once a second, every running sandbox with {@code auto_pause_after_seconds} that
 * has shown no activity (see {@link ActivityTracker}) for that long is paused, exactly as {@code POST …/pause}.
 * Network traffic counts too: a sandbox whose byte counters moved since the last look is active.
 */
public final class IdleAutoPause implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IdleAutoPause.class);
    private static final Duration TICK = Duration.ofSeconds(1);

    /** The API's pause path. */
    public interface Pauser {
        void pauseIdle(SandboxRecord sandbox, Duration idleFor);
    }

    /** Bytes in + out so far per sandbox id, for the sandboxes the host network counts. */
    public interface Traffic {
        Map<String, Long> bytesBySandbox() throws IOException;
    }

    private final Store store;
    private final ActivityTracker activity;
    private final Pauser pauser;
    private final Traffic traffic;
    private Map<String, Long> lastTraffic = Map.of();
    private final Set<String> pausing = ConcurrentHashMap.newKeySet();
    private final Thread ticker;
    private volatile boolean stopped;

    public IdleAutoPause(Store store, ActivityTracker activity, Pauser pauser, Traffic traffic) {
        this.store = store;
        this.activity = activity;
        this.pauser = pauser;
        this.traffic = traffic;
        this.ticker = Thread.ofVirtual().name("idle-auto-pause").unstarted(this::loop);
    }

    public IdleAutoPause start() {
        ticker.start();
        return this;
    }

    private void loop() {
        while (!stopped) {
            try {
                tick();
            } catch (RuntimeException e) {
                log.warn("idle auto-pause check failed; trying again: {}", e.toString());
            }
            try {
                Thread.sleep(TICK);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Pauses each idle sandbox on its own thread, so one slow snapshot does not delay the others. */
    private void tick() {
        List<SandboxRecord> running = store.sandboxesIn(Set.of(SandboxStatus.RUNNING)).stream()
                .filter(s -> s.autoPauseAfterSeconds() != null).toList();
        if (running.isEmpty()) {
            return;
        }
        noteTraffic();
        for (SandboxRecord sandbox : running) {
            int limit = sandbox.autoPauseAfterSeconds();
            long idleNanos = activity.idleNanos(sandbox.id());
            if (idleNanos < TimeUnit.SECONDS.toNanos(limit) || !pausing.add(sandbox.id())) {
                continue;
            }
            Duration idleFor = Duration.ofNanos(idleNanos);
            Thread.ofVirtual().name("auto-pause-" + sandbox.id()).start(() -> {
                try {
                    pauser.pauseIdle(sandbox, idleFor);
                } catch (RuntimeException e) {
                    // Try again after another idle period, not every second.
                    activity.touch(sandbox.id());
                    log.warn("auto-pause of sandbox {} failed: {}", sandbox.id(), e.getMessage());
                } finally {
                    pausing.remove(sandbox.id());
                }
            });
        }
    }

    private void noteTraffic() {
        Map<String, Long> now;
        try {
            now = traffic.bytesBySandbox();
        } catch (IOException e) {
            log.warn("cannot read the network counters for idle auto-pause: {}", e.getMessage());
            return;
        }
        now.forEach((sandboxId, bytes) -> {
            if (!bytes.equals(lastTraffic.get(sandboxId))) {
                activity.touch(sandboxId);
            }
        });
        lastTraffic = now;
    }

    @Override
    public void close() {
        stopped = true;
        ticker.interrupt();
    }
}
