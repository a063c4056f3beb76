package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * "Every transition is persisted before it is acted on": a real server process is killed with SIGKILL at several
 * points during a pause, a resume and a fork (fractions of how long the operation took when left alone), and the
 * next start must leave every sandbox finished or rolled back (pausing → paused or running, resuming → running or
 * paused, a forking child → running, paused or failed), with no VMM process or snapshot that no row accounts for.
 * Last, a server that was killed re-attaches to the running VM and hears its self-signals again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PauseRecoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double[] KILL_AT = {0.05, 0.5, 0.9};
    @TempDir
    static Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private ServerProcess server;
    private ServerProcess killed;
    private String id;

    @BeforeAll
    void startServerAndSandbox() throws Exception {
        TestApi.linkKit(dir);
        server = ServerProcess.start(dir);
        JsonNode created = call("POST", "/v1/sandboxes", "{\"shape\":\"s-1vcpu-256mb\"}");
        id = created.get("id").asText();
    }

    @AfterAll
    void destroyEverything() throws Exception {
        if (server == null) {
            return;
        }
        try {
            for (JsonNode s : call("GET", "/v1/sandboxes?limit=500", null).get("data")) {
                call("DELETE", "/v1/sandboxes/" + s.get("id").asText(), null);
            }
            for (JsonNode s : call("GET", "/v1/sandboxes?limit=500", null).get("data")) {
                awaitStatus(s.get("id").asText(), "destroyed");
            }
            assertThat(qemuVms(true)).as("VMM processes left after every sandbox was destroyed").isEmpty();
        } finally {
            server.close();
        }
    }

    @Test
    @Order(1)
    void aKillDuringPauseEndsPausedOrRunning() throws Exception {
        Duration took = timed(() -> call("POST", "/v1/sandboxes/" + id + "/pause", null));
        call("POST", "/v1/sandboxes/" + id + "/resume", null);
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            killDuring("/v1/sandboxes/" + id + "/pause", null, took, at);
            String status = status(id);
            assertThat(status).as("after a kill at %.2f of a pause%s", at, logs()).isIn("paused", "running");
            outcomes.add(status);
            assertConsistent();
            if (status.equals("paused")) {
                call("POST", "/v1/sandboxes/" + id + "/resume", null);
            }
        }
        System.out.println("kill during pause: " + outcomes);
    }

    @Test
    @Order(2)
    void aKillDuringResumeEndsRunningOrPaused() throws Exception {
        call("POST", "/v1/sandboxes/" + id + "/pause", null);
        Duration took = timed(() -> call("POST", "/v1/sandboxes/" + id + "/resume", null));
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            call("POST", "/v1/sandboxes/" + id + "/pause", null);
            killDuring("/v1/sandboxes/" + id + "/resume", null, took, at);
            String status = status(id);
            assertThat(status).as("after a kill at %.2f of a resume%s", at, logs()).isIn("running", "paused");
            outcomes.add(status);
            assertConsistent();
            if (status.equals("paused")) {
                call("POST", "/v1/sandboxes/" + id + "/resume", null);
            }
        }
        System.out.println("kill during resume: " + outcomes);
    }

    @Test
    @Order(3)
    void aKillDuringForkLeavesTheChildRunningPausedOrFailedWithNothingLeft() throws Exception {
        call("POST", "/v1/sandboxes/" + id + "/pause", null);
        String[] first = new String[1];
        Duration took = timed(() -> first[0] = call("POST", "/v1/sandboxes/" + id + "/fork", "{}").get("id").asText());
        destroyAndWait(first[0]);
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            killDuring("/v1/sandboxes/" + id + "/fork", "{}", took, at);
            assertThat(status(id)).as("the source of a fork stays paused%s", logs()).isEqualTo("paused");
            List<JsonNode> children = childrenOf(id);
            for (JsonNode child : children) {
                String status = child.get("status").asText();
                assertThat(status).as("after a kill at %.2f of a fork%s", at, logs()).isIn("running", "paused", "failed");
                outcomes.add(status);
            }
            assertConsistent();
            for (JsonNode child : children) {
                destroyAndWait(child.get("id").asText());
            }
            if (children.isEmpty()) {
                outcomes.add("no child yet");
            }
        }
        System.out.println("kill during fork: " + outcomes);
    }

    @Test
    @Order(4)
    void aRestartedServerWatchesTheReattachedVmsSelfSignals() throws Exception {
        if (status(id).equals("paused")) {
            call("POST", "/v1/sandboxes/" + id + "/resume", null);
        }
        server.kill();
        killed = server;
        server = ServerProcess.start(dir);
        assertThat(status(id)).isEqualTo("running");
        call("POST", "/v1/sandboxes/" + id + "/exec", "{\"cmd\":\"bash\",\"args\":[\"-c\",\"nohup setsid curl -s "
                + "-X POST 'http://127.0.0.1:1029/self/pause?reason=after+restart' >/dev/null 2>&1 &\"]}");
        awaitStatus(id, "paused");
        assertConsistent();
    }

    /** Starts {@code path} without waiting, kills the server {@code fraction} of {@code took} later, restarts. */
    private void killDuring(String path, String body, Duration took, double fraction) throws Exception {
        http.sendAsync(request(path).POST(body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
        Thread.sleep((long) (took.toMillis() * fraction));
        server.kill();
        killed = server;
        server = ServerProcess.start(dir);
    }

    /** For failure messages: what the killed server and the new one logged about it. */
    private String logs() throws Exception {
        return "\n--- killed server ---\n" + killed.logExcerpt() + "\n--- next server ---\n" + server.logExcerpt();
    }

    /**
     * No row is left in a transitional state; the VMM processes are exactly the running sandboxes' (each answers
     * an exec); the VM directories are exactly the running and paused sandboxes', with no half-written file.
     */
    private void assertConsistent() throws Exception {
        Set<String> running = new HashSet<>();
        Set<String> holding = new HashSet<>();
        for (JsonNode s : call("GET", "/v1/sandboxes?limit=500", null).get("data")) {
            String status = s.get("status").asText();
            String vmId = SandboxService.vmId(s.get("id").asText());
            assertThat(status).as(s.toString()).isIn("running", "paused", "failed", "error");
            if (status.equals("running")) {
                running.add(vmId);
                JsonNode echo = call("POST", "/v1/sandboxes/" + s.get("id").asText() + "/exec",
                        "{\"cmd\":\"echo\",\"args\":[\"alive\"]}");
                assertThat(echo.get("result").get("stdout").asText()).isEqualTo("alive\n");
            }
            if (status.equals("running") || status.equals("paused")) {
                holding.add(vmId);
            }
        }
        assertThat(qemuVms(false)).as("VMM processes").isEqualTo(running);
        Set<String> dirs = new HashSet<>();
        try (Stream<Path> vms = Files.list(dir.resolve("vms"))) {
            vms.forEach(vm -> dirs.add(vm.getFileName().toString()));
        }
        assertThat(dirs).as("VM directories").isEqualTo(holding);
        try (Stream<Path> files = Files.walk(dir.resolve("vms"))) {
            // A paused sandbox's background conversion (started by the new server) works in vms/<id>/convert/.
            assertThat(files.filter(f -> f.getFileName().toString().endsWith(".tmp"))
                    .filter(f -> !f.getParent().getFileName().toString().equals("convert")).toList())
                    .as("half-written files").isEmpty();
        }
    }

    /** The VM ids of the QEMU processes that serve this data directory, with or without snapshot conversions'. */
    private static Set<String> qemuVms(boolean withConversions) {
        Set<String> ids = new HashSet<>();
        for (QemuProcesses.Vmm vmm : QemuProcesses.of(dir)) {
            if (withConversions || !vmm.conversion()) {
                ids.add(vmm.vmId());
            }
        }
        return ids;
    }

    private List<JsonNode> childrenOf(String source) throws Exception {
        List<JsonNode> children = new ArrayList<>();
        for (JsonNode s : call("GET", "/v1/sandboxes?limit=500", null).get("data")) {
            if (s.has("forked_from") && s.get("forked_from").asText().equals(source)) {
                children.add(s);
            }
        }
        return children;
    }

    private interface Step {
        void run() throws Exception;
    }

    private static Duration timed(Step step) throws Exception {
        long started = System.nanoTime();
        step.run();
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private void destroyAndWait(String sandboxId) throws Exception {
        call("DELETE", "/v1/sandboxes/" + sandboxId, null);
        awaitStatus(sandboxId, "destroyed");
    }

    private void awaitStatus(String sandboxId, String wanted) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!status(sandboxId).equals(wanted)) {
            assertThat(System.nanoTime()).as("%s never became %s", sandboxId, wanted).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private String status(String sandboxId) throws Exception {
        return call("GET", "/v1/sandboxes/" + sandboxId, null).get("status").asText();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(90))
                .header("X-Api-Key", server.apiKey).header("Content-Type", "application/json");
    }

    /** The {@code data} of a 2xx answer; anything else fails the test with the body. */
    private JsonNode call(String method, String path, String body) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body);
        HttpResponse<String> response = http.send(request(path).method(method, publisher).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isBetween(200, 299);
        return JSON.readTree(response.body()).get("data");
    }
}
