package sh.createos.sandbox.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Managed processes through the REST API on one real VM (issue 10's "done when"): a process printing a numbered line
 * every 10 ms for 30 s is followed over three dropped connections — one of them across a pause → resume, one across
 * a control-plane restart — and every line arrives once, in order; wait, DELETE of a whole tree, a PTY, input, and
 * the errors of interactive-api.md §5.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProcessApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LINES = 3000;
    @TempDir
    static Path dir;
    private TestApi api;
    private String base;

    @BeforeAll
    void bootOne() throws Exception {
        // The minute sampler would add points of its own between the test's two samples.
        System.setProperty(sh.createos.sandbox.server.metrics.UsageSeries.MANUAL, "true");
        api = TestApi.start(dir, true);
        Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "procs-test",
                "envs", map("MODE", "declared")));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        base = "/v1/sandboxes/" + reply.data().get("id").asText();
    }

    @AfterAll
    void cleanUp() {
        System.clearProperty(sh.createos.sandbox.server.metrics.UsageSeries.MANUAL);
        if (api != null) {
            api.close();
        }
    }

    private Reply post(String path, Object body) throws Exception {
        return api.post(base + path, api.aliceKey, body);
    }

    private JsonNode create(Object body) throws Exception {
        Reply r = post("/processes", body);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.data();
    }

    /** The frames of one connect stream: all of them, or the first {@code max} data frames and then a drop. */
    private List<JsonNode> connect(String processId, long after, int max) throws Exception {
        HttpResponse<InputStream> response = api.client().send(
                TestApi.withKey(api.request(base + "/processes/" + processId + "/connect?after=" + after),
                        api.aliceKey).header("Accept", "application/json").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/x-ndjson");
        List<JsonNode> frames = new ArrayList<>();
        int data = 0;
        try (InputStream in = response.body();
                BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                JsonNode frame = JSON.readTree(line);
                frames.add(frame);
                if (frame.get("type").asText().equals("data") && ++data == max) {
                    break; // closing the body drops the connection mid-stream
                }
            }
        }
        return frames;
    }

    /** Appends the data frames' bytes, checking seq continuity; returns the last seq. */
    private static long collect(List<JsonNode> frames, long after, StringBuilder into) {
        long seq = after;
        for (JsonNode f : frames) {
            if (f.get("type").asText().equals("data")) {
                assertThat(f.get("seq").asLong()).isEqualTo(seq + 1);
                seq = f.get("seq").asLong();
                into.append(new String(Base64.getDecoder().decode(f.get("data_base64").asText()),
                        StandardCharsets.UTF_8));
            }
        }
        return seq;
    }

    @Test
    @Order(1)
    void aFollowedProcessSurvivesDropsAPauseAndARestartAndEveryLineArrivesOnce() throws Exception {
        JsonNode p = create(map("cmd", "python3", "args", List.of("-u", "-c",
                "import time\nfor i in range(1, " + (LINES + 1) + "):\n print(i)\n time.sleep(0.01)\n")));
        String id = p.get("process_id").asText();
        assertThat(id).startsWith("proc_");
        assertThat(p.get("kind").asText()).isEqualTo("process");
        assertThat(p.get("state").asText()).isEqualTo("running");
        assertThat(p.get("cmd").asText()).isEqualTo("python3");
        assertThat(p.get("output").get("newest_seq").asLong()).isZero();
        StringBuilder got = new StringBuilder();
        long seq = collect(connect(id, 0, 50), 0, got); // drop 1

        seq = collect(connect(id, seq, 50), seq, got); // drop 2, then pause → resume
        Reply paused = post("/pause", null);
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        Reply whilePaused = api.get(base + "/processes/" + id, api.aliceKey);
        assertThat(whilePaused.status()).as(whilePaused.toString()).isEqualTo(409);
        Reply resumed = post("/resume", null);
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        assertThat(api.get(base + "/processes/" + id, api.aliceKey).data().get("state").asText())
                .isEqualTo("running");

        seq = collect(connect(id, seq, 50), seq, got); // drop 3, then a control-plane restart
        api = api.restart();
        List<JsonNode> rest = connect(id, seq, -1);
        collect(rest, seq, got);
        JsonNode exit = rest.getLast();
        assertThat(exit.toString()).isEqualTo("{\"type\":\"exit\",\"exit_code\":0}");

        StringBuilder want = new StringBuilder();
        for (int i = 1; i <= LINES; i++) {
            want.append(i).append('\n');
        }
        assertThat(got.toString()).isEqualTo(want.toString());
        Reply waited = api.get(base + "/processes/" + id + "/wait?scope=tree", api.aliceKey);
        assertThat(waited.status()).as(waited.toString()).isEqualTo(200);
        assertThat(waited.data().get("exit_code").asInt()).isZero();
        assertThat(waited.data().get("state").asText()).isEqualTo("exited");
        assertThat(waited.data().get("finished_at").asText()).isNotEmpty();
    }

    @Test
    @Order(2)
    void waitReturnsTheExitCodeOrTimesOutWith408() throws Exception {
        String seven = create(map("cmd", "sh", "args", List.of("-c", "echo \"$MODE\"; exit 7"),
                "env", map("MODE", "overridden"))).get("process_id").asText();
        Reply waited = api.get(base + "/processes/" + seven + "/wait?scope=&timeout_ms=20000", api.aliceKey);
        assertThat(waited.status()).as(waited.toString()).isEqualTo(200);
        assertThat(waited.data().get("exit_code").asInt()).isEqualTo(7);
        assertThat(waited.data().get("leader_exited").asBoolean()).isTrue();
        StringBuilder out = new StringBuilder();
        List<JsonNode> frames = connect(seven, 0, -1);
        collect(frames, 0, out);
        assertThat(out.toString()).isEqualTo("overridden\n");
        assertThat(frames.getLast().get("exit_code").asInt()).isEqualTo(7);

        String sleeper = create(map("cmd", "sleep", "args", List.of("30"))).get("process_id").asText();
        Reply timedOut = api.get(base + "/processes/" + sleeper + "/wait?timeout_ms=100", api.aliceKey);
        assertThat(timedOut.status()).as(timedOut.toString()).isEqualTo(408);
        assertThat(timedOut.data().get("code").asText()).isEqualTo("WAIT_TIMEOUT");
        assertThat(api.delete(base + "/processes/" + sleeper + "?grace_ms=0", api.aliceKey).data()
                .get("signal").asText()).isEqualTo("SIGKILL");
    }

    @Test
    @Order(3)
    void deleteEndsTheWholeTreeEvenWhatLeftTheSession() throws Exception {
        JsonNode p = create(map("cmd", "sh", "args", List.of("-c",
                "sleep 301 & sleep 302 & setsid sleep 303 & trap '' TERM; echo up; wait")));
        String id = p.get("process_id").asText();
        connect(id, 0, 1); // "up": the children run
        assertThat(execStdout("pgrep -c -f '^sleep 30[123]$'")).isEqualTo("3\n");
        Reply deleted = api.delete(base + "/processes/" + id + "?grace_ms=300", api.aliceKey);
        assertThat(deleted.status()).as(deleted.toString()).isEqualTo(200);
        assertThat(deleted.data().get("tree_exited").asBoolean()).isTrue();
        assertThat(deleted.data().get("state").asText()).isEqualTo("exited");
        assertThat(execStdout("pgrep -c -f '^sleep 30[123]$' || true")).isEqualTo("0\n");
        Reply again = api.delete(base + "/processes/" + id, api.aliceKey);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.data().get("tree_exited").asBoolean()).isTrue();
        List<JsonNode> replay = connect(id, 0, -1);
        assertThat(replay.getLast().get("type").asText()).isEqualTo("exit");
    }

    private String execStdout(String script) throws Exception {
        Reply r = post("/exec", map("cmd", "sh", "args", List.of("-c", script)));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.data().get("result").get("stdout").asText();
    }

    @Test
    @Order(4)
    void aPtyTakesResizeInputAndSignals() throws Exception {
        JsonNode p = create(map("pty", map("rows", 24, "cols", 80)));
        String id = p.get("process_id").asText();
        assertThat(p.get("kind").asText()).isEqualTo("pty");
        assertThat(p.has("cmd")).isFalse();
        String one = "/processes/" + id;
        assertThat(post(one + "/resize", map("rows", 50, "cols", 132)).status()).isEqualTo(200);
        Reply input = post(one + "/input", map("data_base64",
                Base64.getEncoder().encodeToString("stty size; sleep 40\r".getBytes())));
        assertThat(input.data().get("input_seq").asLong()).isEqualTo(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!api.get(base + one, api.aliceKey).data().path("foreground").path("cmd").asText().equals("sleep")) {
            assertThat(System.nanoTime()).as("sleep never became the foreground program").isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(post(one + "/signal", map("signal", "INT")).status()).isEqualTo(200);
        post(one + "/input", map("data_base64", Base64.getEncoder().encodeToString("exit 3\r".getBytes())));
        List<JsonNode> frames = connect(id, 0, -1);
        StringBuilder screen = new StringBuilder();
        collect(frames, 0, screen);
        assertThat(screen.toString()).contains("50 132");
        assertThat(frames.getLast().get("exit_code").asInt()).isEqualTo(3);
        assertThat(post(one + "/stdin/close", null).status()).isEqualTo(409);
    }

    @Test
    @Order(5)
    void pipeInputThenStdinCloseReachesTheReader() throws Exception {
        String id = create(map("cmd", "cat")).get("process_id").asText();
        String one = "/processes/" + id;
        post(one + "/input", map("data_base64", Base64.getEncoder().encodeToString("hello\n".getBytes())));
        assertThat(post(one + "/stdin/close", null).status()).isEqualTo(200);
        assertThat(post(one + "/stdin/close", null).status()).as("idempotent").isEqualTo(200);
        Reply late = post(one + "/input", map("data_base64", "aGk="));
        assertThat(late.status()).isEqualTo(409);
        assertThat(late.data().get("code").asText()).isEqualTo("STDIN_CLOSED");
        assertThat(api.get(base + one + "/wait", api.aliceKey).data().get("exit_code").asInt()).isZero();
        StringBuilder out = new StringBuilder();
        collect(connect(id, 0, -1), 0, out);
        assertThat(out.toString()).isEqualTo("hello\n");
        Reply list = api.get(base + "/processes", api.aliceKey);
        assertThat(list.data().get("processes").findValuesAsText("process_id")).contains(id);
    }

    @Test
    @Order(6)
    void badInputForeignIdsAndUnknownProcessesAnswerAsTheSpecSays() throws Exception {
        String id = create(map("cmd", "sleep", "args", List.of("60"))).get("process_id").asText();
        String one = "/processes/" + id;
        assertThat(api.get(base + "/processes", api.bobKey).status()).as("another tenant's sandbox").isEqualTo(404);
        assertThat(api.get(base + one, api.bobKey).status()).isEqualTo(404);
        assertThat(api.post(base + "/processes", api.bobKey, map("cmd", "true")).status()).isEqualTo(404);
        Reply unknown = api.get(base + "/processes/proc_nope", api.aliceKey);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.data().get("code").asText()).isEqualTo("PROCESS_NOT_FOUND");
        assertThat(api.get(base + "/processes/proc_nope/connect", api.aliceKey).status()).isEqualTo(404);

        assertFail(post("/processes", map("args", List.of("x"))), 400, "cmd is required for a pipe process");
        assertFail(post("/processes", map("cmd", "true", "env", map("UNDECLARED", "x"))), 400, "UNDECLARED");
        assertFail(post("/processes", map("cmd", "true", "cwd", "relative")), 400, "absolute");
        assertFail(post("/processes", map("cmd", "true", "cwd", "/no/such/dir")), 400, "/no/such/dir");
        Reply spawn = post("/processes", map("cmd", "no-such-program-x"));
        assertFail(spawn, 400, "no-such-program-x");
        assertThat(spawn.data().get("code").asText()).isEqualTo("SPAWN_FAILED");
        assertFail(post(one + "/input", map("data_base64", "not base64!")), 400, "base64");
        byte[] big = new byte[(1 << 20) + 1];
        assertThat(post(one + "/input", map("data_base64", Base64.getEncoder().encodeToString(big))).status())
                .isEqualTo(413);
        assertFail(post(one + "/signal", map("signal", "SIGNOPE")), 400, "SIGINT");
        assertFail(post(one + "/resize", map("rows", 5, "cols", 5)), 409, "terminal");
        assertFail(post(one + "/resize", map("rows", 0, "cols", 5)), 400, "rows");
        assertFail(api.get(base + one + "/wait?scope=all", api.aliceKey), 400, "scope");
        assertFail(api.get(base + one + "/connect?after=-1", api.aliceKey), 400, "after");
        assertFail(api.delete(base + one + "?grace_ms=-5", api.aliceKey), 400, "grace_ms");
        assertFail(api.delete(base + one + "?grace_ms=abc", api.aliceKey), 400, "grace_ms");
        assertThat(api.delete(base + one + "?grace_ms=0", api.aliceKey).status()).isEqualTo(200);
        assertFail(post(one + "/signal", map("signal", "SIGTERM")), 409, "finished");
    }

    @Test
    @Order(7)
    void metricsReadTheGuestAndTheAccountAndTheOperatorCountsTheRunningSandbox() throws Exception {
        String spin = create(map("cmd", "sh", "args", List.of("-c", "while :; do :; done"))).get("process_id").asText();
        assertThat(api.get(base + "/metrics", api.aliceKey).status()).isEqualTo(200); // starts a fresh CPU window
        java.time.Instant firstSample = java.time.Instant.now().minusSeconds(60);
        api.server.usage().sample(firstSample); // the minute sampler, at moments the test chooses
        Thread.sleep(1500);
        api.server.usage().sample(firstSample.plusSeconds(60));
        Reply m = api.get(base + "/metrics", api.aliceKey);
        assertThat(m.status()).as(m.toString()).isEqualTo(200);
        JsonNode d = m.data();
        assertThat(d.get("sandbox_id").asText()).isEqualTo(base.substring(base.lastIndexOf('/') + 1));
        assertThat(d.get("cpu_cores_allocated").asDouble()).isEqualTo(1.0);
        // An idle guest reads ~0.01; under emulation on a loaded host the loop gets what the vCPU thread gets.
        assertThat(d.get("cpu_cores_used").asDouble()).as("a busy loop in the guest").isBetween(0.2, 1.05);
        assertThat(d.get("cpu_pct").asDouble()).isBetween(20.0, 105.0);
        assertThat(d.get("memory_limit_bytes").asLong()).isBetween(256L << 20, 512L << 20);
        assertThat(d.get("memory_bytes").asLong()).isPositive().isLessThan(d.get("memory_limit_bytes").asLong());
        assertThat(d.get("memory_pct").asDouble()).isBetween(0.1, 100.0);
        assertThat(d.get("disk_total_bytes").asLong()).isGreaterThan(d.get("disk_used_bytes").asLong());
        assertThat(d.get("as_of").asText()).isNotEmpty();
        api.delete(base + "/processes/" + spin + "?grace_ms=0", api.aliceKey);
        assertThat(api.get(base + "/metrics", api.bobKey).status()).isEqualTo(404);

        Reply account = api.get("/v1/metrics", api.aliceKey);
        assertThat(account.status()).as(account.toString()).isEqualTo(200);
        assertThat(account.data().get("sandboxes").toString())
                .isEqualTo("{\"running\":1,\"paused\":0,\"other\":0,\"total\":1}");
        assertThat(api.get("/v1/metrics", api.bobKey).data().get("sandboxes").get("total").asInt()).isZero();
        JsonNode usage = account.data();
        assertThat(usage.get("sandbox_seconds").asLong()).isEqualTo(120);
        assertThat(usage.get("vcpu_seconds").asDouble()).isEqualTo(120.0);
        assertThat(usage.get("memory_mib_seconds").asDouble()).isEqualTo(512 * 120.0);
        assertThat(usage.get("cpu_core_seconds_used").asDouble()).as("the busy loop between the samples")
                .isBetween(0.2, 30.0);
        Reply minutes = api.get("/v1/metrics/timeseries?step=60&from=" + firstSample.minusSeconds(120)
                .truncatedTo(java.time.temporal.ChronoUnit.MINUTES) + "&to=" + java.time.Instant.now()
                .plusSeconds(60), api.aliceKey);
        assertThat(minutes.status()).as(minutes.toString()).isEqualTo(200);
        assertThat(minutes.data().get("points").findValues("running").stream().mapToInt(JsonNode::asInt).sum())
                .isEqualTo(2);
        assertFail(api.get("/v1/metrics?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", api.aliceKey), 400,
                "31 days");
        assertFail(api.get("/v1/metrics?from=yesterday", api.aliceKey), 400, "RFC 3339");
        assertFail(api.get("/v1/metrics/timeseries?step=30", api.aliceKey), 400, "step");
        Reply series = api.get("/v1/metrics/timeseries?step=3600", api.aliceKey);
        assertThat(series.status()).as(series.toString()).isEqualTo(200);
        assertThat(series.data().get("points")).hasSize(24);
        assertThat(series.data().get("step_seconds").asInt()).isEqualTo(3600);

        String token = java.nio.file.Files.readString(dir.resolve("metrics.token")).trim();
        String text = api.client().send(api.request("/metrics").header("Authorization", "Bearer " + token).GET()
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        var walker = new org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker();
        new org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor(
                new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), walker).walk();
        var running = walker.getAllMetricFamilies().stream().filter(f -> f.getName().equals("createos_sandboxes"))
                .flatMap(f -> f.getMetrics().stream()).filter(x -> "running".equals(x.getLabels().get("state")))
                .findFirst().orElseThrow();
        assertThat(((org.hawkular.agent.prometheus.types.Gauge) running).getValue()).isEqualTo(1.0);
        assertThat(text).doesNotContain(base.substring(base.lastIndexOf('/') + 1));
    }

    private static void assertFail(Reply r, int status, String messagePart) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.json().get("status").asText()).isEqualTo("fail");
        assertThat(r.data().get("message").asText()).contains(messagePart);
    }
}
