package sh.createos.sandbox.server.remote;

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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
import sh.createos.sandbox.server.QemuProcesses;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.PostgresCluster;

/**
 * Two control-plane replicas on one PostgreSQL database over two host daemons; one of them (the victim) is killed
 * with SIGKILL in the middle of a create, a pause and a fork, at several points each (fractions of how long the
 * operation took when left alone). Nobody calls the dead replica again: the survivor serves every request, and its
 * sweep settles each row the victim left in flight once the victim's claim on it lapses, so every row ends running,
 * paused, failed or error; a VM runs exactly for the running rows (each answers an exec, none is placed twice), a VM
 * directory exists exactly for the running and paused ones, with nothing half written. Only then is the victim
 * started again (same data directory and port) for the next kill.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicaKillTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double[] KILL_AT = {0.1, 0.5, 0.9};
    /** Past the victim's claims' lapse (20 s) and the survivor's next sweep, with the host's step to finish. */
    private static final Duration SETTLE = Duration.ofSeconds(120);
    private static final Set<String> IN_FLIGHT = Set.of("creating", "pausing", "resuming", "forking", "destroying");

    @TempDir
    static Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private String databaseUrl;
    private String secretKey;
    private Path tokenFile;
    private Path one;
    private Path two;
    private String key;
    private ReplicaProcess survivor;
    private ReplicaProcess victim;
    private int victimPort;
    private HostDaemonProcess h1;
    private HostDaemonProcess h2;
    private String source;

    @BeforeAll
    void startReplicasAndHosts() throws Exception {
        databaseUrl = PostgresCluster.shared().newDatabase();
        secretKey = ReplicaProcess.newSecretKey();
        tokenFile = dir.resolve("host.token");
        Files.writeString(tokenFile, "t-" + Ulid.next());
        HostPki pki = HostPki.open(dir.resolve("control-tls"));
        pki.issueHost("h1", List.of("127.0.0.1"), dir.resolve("h1-tls"));
        pki.issueHost("h2", List.of("127.0.0.1"), dir.resolve("h2-tls"));
        one = dir.resolve("machine-one");
        two = dir.resolve("machine-two");
        TestApi.linkKit(one);
        TestApi.linkKit(two);
        survivor = ReplicaProcess.start(dir.resolve("survivor"), databaseUrl, secretKey, tokenFile,
                dir.resolve("control-tls"));
        key = Files.readAllLines(dir.resolve("survivor").resolve("credentials.env")).stream()
                .filter(l -> l.startsWith("CREATEOS_SANDBOX_API_KEY=")).findFirst().orElseThrow()
                .substring("CREATEOS_SANDBOX_API_KEY=".length());
        victim = ReplicaProcess.start(dir.resolve("victim"), databaseUrl, secretKey, tokenFile,
                dir.resolve("control-tls"));
        victimPort = victim.port;
        String both = survivor.url() + "," + victim.url();
        h1 = HostDaemonProcess.start("h1", one, dir.resolve("h1-tls"), tokenFile, "zone=a", both);
        h2 = HostDaemonProcess.start("h2", two, dir.resolve("h2-tls"), tokenFile, "zone=b", both);
        ReplicaCalls calls = new ReplicaCalls();
        calls.awaitHostsActive(survivor, key, 2);
        calls.awaitHostsActive(victim, key, 2);
        source = call(survivor, "POST", "/v1/sandboxes", Map.of("shape", "s-1vcpu-256mb", "name", "source"))
                .get("id").asText();
    }

    @AfterAll
    void destroyEverything() throws Exception {
        try {
            if (survivor != null) {
                for (JsonNode s : list()) {
                    call(survivor, "DELETE", "/v1/sandboxes/" + s.get("id").asText(), null);
                }
                for (JsonNode s : list()) {
                    awaitStatus(s.get("id").asText(), "destroyed");
                }
                assertThat(qemuVms()).as("VMM processes left after every sandbox was destroyed").isEmpty();
            }
        } finally {
            for (AutoCloseable process : new AutoCloseable[] {h1, h2, victim, survivor}) {
                if (process != null) {
                    process.close();
                }
            }
            HostDaemonProcess.wipe(one);
            HostDaemonProcess.wipe(two);
        }
    }

    @Test
    @Order(1)
    void aReplicaKilledMidCreateLeavesARunningOrFailedRowAndNoStrayVm() throws Exception {
        String[] first = new String[1];
        Duration took = timed(() -> first[0] = call(victim, "POST", "/v1/sandboxes",
                Map.of("shape", "s-1vcpu-256mb")).get("id").asText());
        destroyAndWait(first[0]);
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            Set<String> before = ids();
            killVictimDuring("/v1/sandboxes", Map.of("shape", "s-1vcpu-256mb", "name", "killed-create"), took, at);
            awaitSettled();
            for (JsonNode s : list()) {
                if (!before.contains(s.get("id").asText())) {
                    outcomes.add(s.get("status").asText());
                    assertThat(s.get("status").asText()).as("after a kill at %.2f of a create: %s%s", at, s, logs())
                            .isIn("running", "failed");
                }
            }
            assertConsistent();
            destroyAllBut(before);
            restartVictim();
        }
        System.out.println("replica killed during create: " + outcomes);
    }

    @Test
    @Order(2)
    void aReplicaKilledMidPauseLeavesThePausedOrRunningSandboxServedByTheSurvivor() throws Exception {
        Duration took = timed(() -> call(victim, "POST", "/v1/sandboxes/" + source + "/pause", Map.of()));
        call(survivor, "POST", "/v1/sandboxes/" + source + "/resume", Map.of());
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            killVictimDuring("/v1/sandboxes/" + source + "/pause", Map.of(), took, at);
            awaitSettled();
            String status = status(source);
            assertThat(status).as("after a kill at %.2f of a pause%s", at, logs()).isIn("paused", "running");
            outcomes.add(status);
            assertConsistent();
            if (status.equals("paused")) {
                call(survivor, "POST", "/v1/sandboxes/" + source + "/resume", Map.of());
            }
            assertThat(stdout(source, "echo", "back")).isEqualTo("back\n");
            restartVictim();
        }
        System.out.println("replica killed during pause: " + outcomes);
    }

    @Test
    @Order(3)
    void aReplicaKilledMidForkLeavesTheChildRunningPausedOrFailedWithNothingLeft() throws Exception {
        call(survivor, "POST", "/v1/sandboxes/" + source + "/pause", Map.of());
        String[] first = new String[1];
        Duration took = timed(() -> first[0] = call(victim, "POST", "/v1/sandboxes/" + source + "/fork", Map.of())
                .get("id").asText());
        destroyAndWait(first[0]);
        List<String> outcomes = new ArrayList<>();
        for (double at : KILL_AT) {
            killVictimDuring("/v1/sandboxes/" + source + "/fork", Map.of(), took, at);
            awaitSettled();
            assertThat(status(source)).as("the source of a fork stays paused%s", logs()).isEqualTo("paused");
            List<String> children = new ArrayList<>();
            for (JsonNode s : list()) {
                if (s.has("forked_from") && s.get("forked_from").asText().equals(source)) {
                    String status = s.get("status").asText();
                    assertThat(status).as("after a kill at %.2f of a fork: %s%s", at, s, logs())
                            .isIn("running", "paused", "failed");
                    outcomes.add(status);
                    children.add(s.get("id").asText());
                }
            }
            if (children.isEmpty()) {
                outcomes.add("no child yet");
            }
            assertConsistent();
            for (String child : children) {
                destroyAndWait(child);
            }
            restartVictim();
        }
        System.out.println("replica killed during fork: " + outcomes);
    }

    /** Sends {@code body} to {@code path} on the victim without waiting, and kills it {@code fraction} of took later. */
    private void killVictimDuring(String path, Object body, Duration took, double fraction) throws Exception {
        http.sendAsync(request(victim, path).POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
                .build(), HttpResponse.BodyHandlers.discarding());
        Thread.sleep((long) (took.toMillis() * fraction));
        victim.kill();
    }

    /** Only once the survivor settled what the victim left: the victim must not settle its own rows. */
    private void restartVictim() throws Exception {
        victim = ReplicaProcess.start(dir.resolve("victim"), databaseUrl, secretKey, tokenFile,
                dir.resolve("control-tls"), victimPort);
        new ReplicaCalls().awaitHostsActive(victim, key, 2);
    }

    /** Until no row is in the middle of an operation (the survivor's sweep settles the victim's). */
    private void awaitSettled() throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            List<String> busy = new ArrayList<>();
            for (JsonNode s : list()) {
                if (IN_FLIGHT.contains(s.get("status").asText())) {
                    busy.add(s.get("id").asText() + " " + s.get("status").asText());
                }
            }
            if (busy.isEmpty()) {
                return;
            }
            assertThat(System.nanoTime()).as("rows still in flight %s after %s%s", busy, SETTLE, logs())
                    .isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /**
     * No row in flight; the VMs are exactly the running rows' (each answers an exec through the survivor, each
     * runs on one machine only); the VM directories are exactly the running and paused rows', one machine each,
     * with no half-written file.
     */
    private void assertConsistent() throws Exception {
        Set<String> running = new HashSet<>();
        Set<String> holding = new HashSet<>();
        for (JsonNode s : list()) {
            String status = s.get("status").asText();
            String id = s.get("id").asText();
            assertThat(status).as(s.toString()).isIn("running", "paused", "failed", "error");
            if (status.equals("running")) {
                running.add(SandboxService.vmId(id));
                assertThat(stdout(id, "echo", "alive")).isEqualTo("alive\n");
            }
            if (status.equals("running") || status.equals("paused")) {
                holding.add(SandboxService.vmId(id));
            }
        }
        Map<String, Integer> vms = qemuVms();
        assertThat(vms.values()).as("a VM placed twice: %s", vms).allMatch(n -> n == 1);
        assertThat(vms.keySet()).as("VMM processes%s", logs()).isEqualTo(running);
        Map<String, Integer> dirs = new HashMap<>();
        for (Path machine : List.of(one, two)) {
            Path vmsDir = machine.resolve("vms");
            if (!Files.isDirectory(vmsDir)) {
                continue;
            }
            try (Stream<Path> list = Files.list(vmsDir)) {
                list.forEach(vm -> dirs.merge(vm.getFileName().toString(), 1, Integer::sum));
            }
            try (Stream<Path> files = Files.walk(vmsDir)) {
                assertThat(files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList())
                        .as("half-written files").isEmpty();
            }
        }
        assertThat(dirs.values()).as("a VM directory on both machines: %s", dirs).allMatch(n -> n == 1);
        assertThat(dirs.keySet()).as("VM directories%s", logs()).isEqualTo(holding);
    }

    /** How many QEMU processes run each VM id, on either machine (not counting snapshot conversions). */
    private Map<String, Integer> qemuVms() {
        Map<String, Integer> ids = new HashMap<>();
        for (Path machine : List.of(one, two)) {
            for (QemuProcesses.Vmm vmm : QemuProcesses.of(machine)) {
                if (!vmm.conversion()) {
                    ids.merge(vmm.vmId(), 1, Integer::sum);
                }
            }
        }
        return ids;
    }

    private String logs() throws Exception {
        return "\n--- killed replica ---\n" + victim.logExcerpt() + "\n--- survivor ---\n" + survivor.logExcerpt();
    }

    private void destroyAllBut(Set<String> keep) throws Exception {
        for (JsonNode s : list()) {
            if (!keep.contains(s.get("id").asText())) {
                destroyAndWait(s.get("id").asText());
            }
        }
    }

    private void destroyAndWait(String sandboxId) throws Exception {
        call(survivor, "DELETE", "/v1/sandboxes/" + sandboxId, null);
        awaitStatus(sandboxId, "destroyed");
    }

    private void awaitStatus(String sandboxId, String wanted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!status(sandboxId).equals(wanted)) {
            assertThat(System.nanoTime()).as("%s never became %s", sandboxId, wanted).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static Duration timed(Step step) throws Exception {
        long started = System.nanoTime();
        step.run();
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private String stdout(String id, String... argv) throws Exception {
        return call(survivor, "POST", "/v1/sandboxes/" + id + "/exec", Map.of("cmd", argv[0], "args",
                List.of(argv).subList(1, argv.length))).get("result").get("stdout").asText();
    }

    private String status(String sandboxId) throws Exception {
        return call(survivor, "GET", "/v1/sandboxes/" + sandboxId, null).get("status").asText();
    }

    private List<JsonNode> list() throws Exception {
        List<JsonNode> rows = new ArrayList<>();
        call(survivor, "GET", "/v1/sandboxes?limit=500", null).get("data").forEach(rows::add);
        return rows;
    }

    private Set<String> ids() throws Exception {
        Set<String> ids = new HashSet<>();
        list().forEach(s -> ids.add(s.get("id").asText()));
        return ids;
    }


    private HttpRequest.Builder request(ReplicaProcess replica, String path) {
        return HttpRequest.newBuilder(URI.create(replica.url() + path)).timeout(Duration.ofSeconds(120))
                .header("X-Api-Key", key).header("Content-Type", "application/json");
    }

    /** The {@code data} of a 2xx answer; anything else fails the test with the body. */
    private JsonNode call(ReplicaProcess replica, String method, String path, Object body) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
        HttpResponse<String> response = http.send(request(replica, path).method(method, publisher).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isBetween(200, 299);
        return JSON.readTree(response.body()).get("data");
    }
}
