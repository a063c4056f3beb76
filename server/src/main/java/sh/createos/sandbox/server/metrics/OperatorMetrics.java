package sh.createos.sandbox.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.http.RequestObserver;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * The operator's Prometheus figures (Micrometer): sandboxes per state, API latency per route pattern, and the
 * durations and failures of create, pause, resume and fork as the API served them. Labels carry only states, route
 * patterns, methods, status codes and operation names: no user, key or sandbox id reaches the scrape.
 */
public final class OperatorMetrics implements RequestObserver {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Store store;
    private volatile Map<SandboxStatus, Long> counts = new EnumMap<>(SandboxStatus.class);

    public OperatorMetrics(Store store) {
        this.store = store;
        for (SandboxStatus status : SandboxStatus.values()) {
            Gauge.builder("createos_sandboxes", () -> counts.getOrDefault(status, 0L))
                    .description("Sandboxes in each state, all users together")
                    .tag("state", status.wire()).register(registry);
        }
        for (String op : new String[] {"create", "pause", "resume", "fork"}) {
            for (String outcome : new String[] {"success", "failure"}) {
                operationTimer(op, outcome); // present at 0 before the first call
            }
            failures(op);
        }
    }

    @Override
    public void observe(String method, String route, int status, long nanos) {
        Timer.builder("createos_api_request")
                .description("API requests by route pattern; streams count their whole duration")
                .tag("method", method).tag("route", route).tag("status", Integer.toString(status))
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry).record(Duration.ofNanos(nanos));
        String op = operation(method, route);
        if (op != null) {
            boolean failed = status >= 500;
            operationTimer(op, failed ? "failure" : "success").record(Duration.ofNanos(nanos));
            if (failed) {
                failures(op).increment();
            }
        }
    }

    private Timer operationTimer(String op, String outcome) {
        return Timer.builder("createos_sandbox_operation")
                .description("Durations of sandbox create, pause, resume and fork requests")
                .tag("op", op).tag("outcome", outcome).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(10)).maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
    }

    private Counter failures(String op) {
        return Counter.builder("createos_sandbox_operation_failures")
                .description("Sandbox create, pause, resume and fork requests that failed on the server's side (5xx)")
                .tag("op", op).register(registry);
    }

    static String operation(String method, String route) {
        if (!method.equals("POST")) {
            return null;
        }
        return switch (route) {
            case "/v1/sandboxes" -> "create";
            case "/v1/sandboxes/{id}/pause" -> "pause";
            case "/v1/sandboxes/{id}/resume" -> "resume";
            case "/v1/sandboxes/{id}/fork" -> "fork";
            default -> null;
        };
    }

    /** The Prometheus text exposition, with the sandbox counts read from the store now. */
    public String scrape() {
        Map<SandboxStatus, Long> now = new EnumMap<>(SandboxStatus.class);
        for (User user : store.users()) {
            store.countByStatus(user.id()).forEach((status, n) -> now.merge(status, n, Long::sum));
        }
        counts = now;
        return registry.scrape();
    }
}
