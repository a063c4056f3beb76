package sh.createos.sandbox.server.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.host.agent.GuestStats;
import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.network.TrafficService;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;
import sh.createos.sandbox.server.store.Store;

/**
 * Metrics (interactive-api.md §7): a running sandbox's live figures, the account aggregate and its time series, and
 * the operator's Prometheus {@code /metrics} behind {@link MetricsToken}.
 */
public final class MetricsRoutes {
    static final Duration DEFAULT_WINDOW = Duration.ofHours(24);
    static final Duration MAX_WINDOW = Duration.ofDays(31);
    static final int DEFAULT_STEP = 300;
    static final int MIN_STEP = 60;
    static final int MAX_POINTS = 1440;

    private MetricsRoutes() {}

    /** {@code GET /v1/sandboxes/{id}/metrics}: the spec's fields, then ours (disk, guest network, host traffic). */
    record SandboxMetrics(String sandboxId, long memoryBytes, long memoryLimitBytes, double memoryPct,
            double cpuCoresUsed, double cpuCoresAllocated, double cpuPct, String asOf, long cpuWindowMs,
            long diskUsedBytes, long diskTotalBytes, long netRxBytes, long netTxBytes, Long egressBytes,
            Long ingressBytes, double load1, int managedProcesses) {}

    record Counts(long running, long paused, long other, long total) {}

    record Aggregate(String from, String to, Counts sandboxes, long sandboxSeconds, double vcpuSeconds,
            double memoryMibSeconds, double cpuCoreSecondsUsed, long egressBytes, long ingressBytes) {}

    record Bucket(String ts, int running, double vcpuSeconds, double memoryMibSeconds, double cpuCoreSecondsUsed,
            long egressBytes, long ingressBytes) {}

    record Series(String from, String to, long stepSeconds, List<Bucket> points) {}

    public static void register(Router router, SandboxService service, TrafficService traffic, Store store,
            UsageSeries usage, OperatorMetrics operator, MetricsToken token) {
        router.get("/v1/sandboxes/{id}/metrics", true, ex -> {
            RunningSandbox sb = service.running(ex.user(), ex.param("id"));
            GuestStats g;
            try {
                g = sb.agent().stats();
            } catch (IOException e) {
                throw service.explainLostAgent(sb.sandbox().id(), e);
            }
            Long egress = null, ingress = null;
            try {
                BandwidthView b = traffic.bandwidth(ex.user(), sb.sandbox().id());
                egress = b.usedBytes();
                ingress = b.ingressBytes();
            } catch (IOException | RuntimeException e) {
                // host counters are optional here: no lease, or nft unreadable
            }
            double allocated = sb.sandbox().vcpu();
            ex.ok(new SandboxMetrics(sb.sandbox().id(), g.memoryUsedBytes(), g.memoryTotalBytes(),
                    pct(g.memoryUsedBytes(), g.memoryTotalBytes()), round(g.cpuCoresUsed()), allocated,
                    pct(g.cpuCoresUsed(), allocated), Instant.now().toString(), g.cpuWindowMs(), g.diskUsedBytes(),
                    g.diskTotalBytes(), g.netRxBytes(), g.netTxBytes(), egress, ingress, g.load1(),
                    g.managedProcesses()));
        });
        router.get("/v1/metrics", true, ex -> {
            Instant[] w = window(ex);
            Map<SandboxStatus, Long> now = store.countByStatus(ex.user().id());
            long running = now.getOrDefault(SandboxStatus.RUNNING, 0L);
            long paused = now.getOrDefault(SandboxStatus.PAUSED, 0L);
            long total = 0;
            for (var e : now.entrySet()) {
                if (e.getKey() != SandboxStatus.DESTROYED) {
                    total += e.getValue();
                }
            }
            long sandboxSeconds = 0, egress = 0, ingress = 0;
            double vcpu = 0, mem = 0, cpu = 0;
            for (UsageSeries.Point p : usage.points(ex.user().id(), w[0], w[1])) {
                sandboxSeconds += p.running() * UsageSeries.RESOLUTION.toSeconds();
                vcpu += p.vcpuSeconds();
                mem += p.memoryMibSeconds();
                cpu += p.cpuCoreSecondsUsed();
                egress += p.egressBytes();
                ingress += p.ingressBytes();
            }
            ex.ok(new Aggregate(w[0].toString(), w[1].toString(),
                    new Counts(running, paused, total - running - paused, total), sandboxSeconds, vcpu, mem,
                    round(cpu), egress, ingress));
        });
        router.get("/v1/metrics/timeseries", true, ex -> {
            Instant[] w = window(ex);
            long step = DEFAULT_STEP;
            String s = ex.query("step");
            if (s != null && !s.isEmpty()) {
                try {
                    step = Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw ApiException.badRequest("'step' must be an integer number of seconds");
                }
            }
            if (step < MIN_STEP) {
                throw ApiException.badRequest("'step' must be at least " + MIN_STEP + " seconds");
            }
            long span = w[1].getEpochSecond() - w[0].getEpochSecond();
            long count = (span + step - 1) / step;
            if (count > MAX_POINTS) {
                throw ApiException.badRequest("the window holds " + count + " steps of " + step + " s; at most "
                        + MAX_POINTS + " points: widen 'step' or narrow 'from'/'to'");
            }
            List<UsageSeries.Point> points = usage.points(ex.user().id(), w[0], w[1]);
            List<Bucket> buckets = new ArrayList<>();
            int next = 0;
            for (long start = w[0].getEpochSecond(); start < w[1].getEpochSecond(); start += step) {
                int running = 0;
                double vcpu = 0, mem = 0, cpu = 0;
                long egress = 0, ingress = 0;
                while (next < points.size() && points.get(next).minute() < start + step) {
                    UsageSeries.Point p = points.get(next++);
                    running = Math.max(running, p.running());
                    vcpu += p.vcpuSeconds();
                    mem += p.memoryMibSeconds();
                    cpu += p.cpuCoreSecondsUsed();
                    egress += p.egressBytes();
                    ingress += p.ingressBytes();
                }
                buckets.add(new Bucket(Instant.ofEpochSecond(start).toString(), running, vcpu, mem, round(cpu),
                        egress, ingress));
            }
            ex.ok(new Series(w[0].toString(), w[1].toString(), step, buckets));
        });
        router.get("/metrics", false, ex -> {
            if (!token.admits(ex.header("Authorization"))) {
                throw ApiException.unauthorized("/metrics needs the operator's bearer token (DATA_DIR/metrics.token "
                        + "or CREATEOS_SANDBOX_METRICS_TOKEN)");
            }
            byte[] body = operator.scrape().getBytes(StandardCharsets.UTF_8);
            try (OutputStream out = ex.stream(200, "text/plain; version=0.0.4; charset=utf-8", body.length)) {
                out.write(body);
            }
        });
    }

    /** {@code from}/{@code to} (RFC 3339), default the last 24 h, at most 31 days. */
    private static Instant[] window(Exchange ex) {
        Instant to = instant(ex, "to", Instant.now());
        Instant from = instant(ex, "from", to.minus(DEFAULT_WINDOW));
        if (!from.isBefore(to)) {
            throw ApiException.badRequest("'from' must be before 'to'");
        }
        if (Duration.between(from, to).compareTo(MAX_WINDOW) > 0) {
            throw ApiException.badRequest("the window from 'from' to 'to' is longer than 31 days");
        }
        return new Instant[] {from, to};
    }

    private static Instant instant(Exchange ex, String name, Instant dflt) {
        String v = ex.query(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            return java.time.OffsetDateTime.parse(v).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("'" + name + "' must be an RFC 3339 timestamp, e.g. 2026-06-28T12:00:00Z");
        }
    }

    private static double pct(double used, double limit) {
        return limit <= 0 ? 0 : round(used / limit * 100);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
