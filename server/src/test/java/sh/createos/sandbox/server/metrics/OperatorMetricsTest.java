package sh.createos.sandbox.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor;
import org.hawkular.agent.prometheus.types.Counter;
import org.hawkular.agent.prometheus.types.Gauge;
import org.hawkular.agent.prometheus.types.Histogram;
import org.hawkular.agent.prometheus.types.Metric;
import org.hawkular.agent.prometheus.types.MetricFamily;
import org.hawkular.agent.prometheus.types.MetricType;
import org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.server.ApiWithoutVms;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * The operator's {@code /metrics} on a real server without VMs: only the bearer token of {@code metrics.token} opens
 * it, the scrape parses as Prometheus text (Hawkular's parser) into the documented families, and no tenant's data
 * is in it.
 */
class OperatorMetricsTest extends ApiWithoutVms {

    private HttpResponse<String> scrape(String authorization) throws Exception {
        HttpRequest.Builder b = api.request("/metrics").GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return api.client().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void onlyTheOperatorTokenOpensMetricsAndTheFamiliesParse() throws Exception {
        Path tokenFile = dir.resolve("metrics.token");
        assertThat(Files.getPosixFilePermissions(tokenFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String token = Files.readString(tokenFile).trim();
        assertThat(token).hasSize(64);

        assertThat(api.get("/v1/sandboxes", api.aliceKey).status()).isEqualTo(200);
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb"));
        assertThat(created.status()).as("no guest kit here: the create fails on the server's side").isGreaterThanOrEqualTo(500);
        assertThat(api.get("/v1/sandboxes/sb_does_not_exist", api.bobKey).status()).isEqualTo(404);

        assertThat(scrape(null).statusCode()).isEqualTo(401);
        assertThat(scrape("Bearer " + api.aliceKey).statusCode()).as("a user's API key").isEqualTo(401);
        assertThat(api.get("/metrics", api.aliceKey).status()).isEqualTo(401);
        assertThat(scrape("Bearer " + token + "x").statusCode()).isEqualTo(401);
        HttpResponse<String> ok = scrape("Bearer " + token);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        String text = ok.body();
        assertThat(text).doesNotContain(api.alice.id()).doesNotContain(api.bob.id()).doesNotContain("alice@")
                .doesNotContain(api.aliceKey).doesNotContain("sb_does_not_exist");

        CollectorPrometheusMetricsWalker walker = new CollectorPrometheusMetricsWalker();
        new TextPrometheusMetricsProcessor(new ByteArrayInputStream(ok.body().getBytes()), walker).walk();
        Map<String, MetricFamily> families = walker.getAllMetricFamilies().stream()
                .collect(Collectors.toMap(MetricFamily::getName, Function.identity()));

        MetricFamily sandboxes = families.get("createos_sandboxes");
        assertThat(sandboxes.getType()).isEqualTo(MetricType.GAUGE);
        assertThat(sandboxes.getMetrics()).extracting(m -> m.getLabels().get("state"))
                .contains("running", "paused", "creating", "failed", "destroyed");
        double total = sandboxes.getMetrics().stream().mapToDouble(m -> ((Gauge) m).getValue()).sum();
        assertThat(total).as("no host, so no row (ProcessApiTest counts a running one)").isZero();

        MetricFamily requests = families.get("createos_api_request_seconds");
        assertThat(requests.getType()).isEqualTo(MetricType.HISTOGRAM);
        Histogram list = (Histogram) find(requests.getMetrics(), Map.of("method", "GET", "route", "/v1/sandboxes",
                "status", "200"));
        assertThat(list.getSampleCount()).isEqualTo(1);
        assertThat(list.getBuckets()).isNotEmpty();
        Histogram notFound = (Histogram) find(requests.getMetrics(), Map.of("route", "/v1/sandboxes/{id}",
                "status", "404"));
        assertThat(notFound.getSampleCount()).isEqualTo(1);

        MetricFamily ops = families.get("createos_sandbox_operation_seconds");
        assertThat(ops.getType()).isEqualTo(MetricType.HISTOGRAM);
        assertThat(((Histogram) find(ops.getMetrics(), Map.of("op", "create", "outcome", "failure")))
                .getSampleCount()).isEqualTo(1);
        assertThat(((Histogram) find(ops.getMetrics(), Map.of("op", "fork", "outcome", "success")))
                .getSampleCount()).isZero();
        MetricFamily failures = families.get("createos_sandbox_operation_failures_total");
        assertThat(failures.getType()).isEqualTo(MetricType.COUNTER);
        assertThat(((Counter) find(failures.getMetrics(), Map.of("op", "create"))).getValue()).isEqualTo(1);
        assertThat(((Counter) find(failures.getMetrics(), Map.of("op", "pause"))).getValue()).isZero();
    }

    private static Metric find(List<Metric> metrics, Map<String, String> labels) {
        return metrics.stream().filter(m -> m.getLabels().entrySet().containsAll(labels.entrySet())).findFirst()
                .orElseThrow(() -> new AssertionError("no sample with " + labels + " in " + metrics));
    }
}
