package sh.createos.sandbox.server.metrics;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.GuestStats;
import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.network.TrafficService;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * Each user's usage per minute, for {@code GET /v1/metrics} and {@code /v1/metrics/timeseries}
 * (interactive-api.md §7.2–7.3). Kept in memory only, the newest {@link #RETAINED} minutes per user (24 h): a
 * restart starts the series afresh, and a window older than that reads as zeros. Every minute a sampler records,
 * for each running sandbox, its allocation (vCPUs and MiB for the minute), the CPU time its guest reports (a delta
 * of the guest's busy seconds, read without counting as activity for idle auto-pause) and the host's traffic
 * counters (deltas too).
 */
public final class UsageSeries implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsageSeries.class);
    static final Duration RESOLUTION = Duration.ofMinutes(1);
    static final int RETAINED = 24 * 60;
    public static final String MANUAL = "createos.sandbox.usage.manual";

    /** One minute of one user's usage. */
    public record Point(long minute, int running, double vcpuSeconds, double memoryMibSeconds,
            double cpuCoreSecondsUsed, long egressBytes, long ingressBytes) {}

    /** What the previous sample saw of one sandbox, for deltas. */
    private record Last(double cpuSeconds, long uptimeMs, long egress, long ingress) {}

    private final Store store;
    private final SandboxService sandboxes;
    private final TrafficService traffic;
    private final Map<String, ArrayDeque<Point>> byUser = new ConcurrentHashMap<>();
    private final Map<String, Last> last = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("usage-sampler").daemon().factory());

    public UsageSeries(Store store, SandboxService sandboxes, TrafficService traffic) {
        this.store = store;
        this.sandboxes = sandboxes;
        this.traffic = traffic;
    }

    /** Starts the minute sampler, unless the system property {@value #MANUAL} is true (tests sample by hand). */
    public UsageSeries start() {
        if (Boolean.getBoolean(MANUAL)) {
            return this;
        }
        long delay = RESOLUTION.toMillis() - System.currentTimeMillis() % RESOLUTION.toMillis();
        sampler.scheduleAtFixedRate(() -> {
            try {
                sample(Instant.now());
            } catch (RuntimeException e) {
                log.warn("usage sample failed: {}", e.toString());
            }
        }, delay, RESOLUTION.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Records the minute that {@code at} falls in for every user with a running sandbox (once per minute). */
    public void sample(Instant at) {
        long minute = at.getEpochSecond() / 60 * 60;
        double seconds = RESOLUTION.toSeconds();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (User user : store.users()) {
            List<SandboxRecord> running = store.sandboxes(user.id(), SandboxStatus.RUNNING, 10_000, 0);
            running.forEach(s -> seen.add(s.id()));
            if (running.isEmpty()) {
                continue;
            }
            double vcpu = 0, mem = 0, cpu = 0;
            long egress = 0, ingress = 0;
            for (SandboxRecord s : running) {
                vcpu += s.vcpu() * seconds;
                mem += s.memMib() * seconds;
                Last before = last.get(s.id());
                Last now = observe(user, s, before);
                if (now == null) {
                    continue;
                }
                last.put(s.id(), now);
                if (before != null && now.uptimeMs() >= before.uptimeMs()) { // same boot of the guest
                    cpu += Math.max(0, now.cpuSeconds() - before.cpuSeconds());
                    egress += Math.max(0, now.egress() - before.egress());
                    ingress += Math.max(0, now.ingress() - before.ingress());
                }
            }
            record(user.id(), new Point(minute, running.size(), vcpu, mem, cpu, egress, ingress));
        }
        last.keySet().retainAll(seen); // what no longer runs starts afresh when it runs again
    }

    private Last observe(User user, SandboxRecord s, Last before) {
        double cpuSeconds = before == null ? 0 : before.cpuSeconds();
        long uptime = before == null ? 0 : before.uptimeMs();
        var agent = sandboxes.agentQuietly(s);
        if (agent.isPresent()) {
            try {
                GuestStats stats = agent.get().stats();
                cpuSeconds = stats.cpuSecondsTotal();
                uptime = stats.uptimeMs();
            } catch (IOException e) {
                log.debug("usage sample of {}: {}", s.id(), e.toString());
                return null;
            }
        }
        long egress = 0, ingress = 0;
        try {
            BandwidthView b = traffic.bandwidth(user, s.id());
            egress = b.usedBytes();
            ingress = b.ingressBytes();
        } catch (IOException | RuntimeException e) {
            log.debug("traffic of {}: {}", s.id(), e.toString());
        }
        return new Last(cpuSeconds, uptime, egress, ingress);
    }

    void record(String userId, Point p) {
        ArrayDeque<Point> series = byUser.computeIfAbsent(userId, id -> new ArrayDeque<>());
        synchronized (series) {
            if (!series.isEmpty() && series.peekLast().minute() >= p.minute()) {
                return; // one point per minute
            }
            series.addLast(p);
            while (series.size() > RETAINED) {
                series.removeFirst();
            }
        }
    }

    /** The user's points with {@code from <= minute < to}, oldest first. */
    public List<Point> points(String userId, Instant from, Instant to) {
        ArrayDeque<Point> series = byUser.get(userId);
        if (series == null) {
            return List.of();
        }
        List<Point> out = new ArrayList<>();
        synchronized (series) {
            for (Point p : series) {
                if (p.minute() >= from.getEpochSecond() && p.minute() < to.getEpochSecond()) {
                    out.add(p);
                }
            }
        }
        return out;
    }


    @Override
    public void close() {
        sampler.shutdownNow();
    }

}
