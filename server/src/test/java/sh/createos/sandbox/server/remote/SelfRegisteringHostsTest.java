package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.QemuProcesses;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.Ulid;

/**
 * Two host daemons as real processes (each its own data directory, certificate and labels) register themselves with
 * a control plane over mutual TLS ({@code host --control-plane URL}); creates are placed by {@code node_selector} and
 * {@code host_id}; one daemon is killed with SIGKILL: it shows {@code dead}, nothing is placed on it, its sandbox
 * answers 503 at once while the survivor serves on; started again (on another port), it re-registers and its
 * sandbox answers again: the same VM (its QEMU process and a file in its /tmp survived), which ran on meanwhile.
 */
class SelfRegisteringHostsTest {
    /** A host without a heartbeat for this long is down (the daemons beat every second). */
    private static final Duration DEAD_AFTER = Duration.ofSeconds(4);

    @TempDir
    Path dir;

    private static String hostOf(TestApi api, String sandboxId) {
        return api.server.store().sandbox(sandboxId).orElseThrow().hostId();
    }

    private static JsonNode hosts(TestApi api) throws Exception {
        Reply reply = api.get("/v1/hosts", api.aliceKey);
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("data");
    }

    private static JsonNode host(JsonNode hosts, String id) {
        for (JsonNode host : hosts) {
            if (host.get("id").asText().equals(id)) {
                return host;
            }
        }
        return null;
    }

    /** Polls {@code GET /v1/hosts} until {@code condition} holds (registration and liveness take a beat or two). */
    private static JsonNode awaitHosts(TestApi api, Predicate<JsonNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode hosts = hosts(api);
        while (!condition.test(hosts)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("hosts never " + what + ": " + hosts);
            }
            Thread.sleep(200);
            hosts = hosts(api);
        }
        return hosts;
    }

    private static boolean is(JsonNode hosts, String id, String status) {
        JsonNode host = host(hosts, id);
        return host != null && host.get("status").asText().equals(status);
    }

    private static Reply exec(TestApi api, String key, String id, String... argv) throws Exception {
        return api.post("/v1/sandboxes/" + id + "/exec", key, map("cmd", argv[0], "args",
                List.of(argv).subList(1, argv.length)));
    }

    /** The pid of the one QEMU that serves the machine's data directory. */
    private static long qemuPid(Path machine) {
        List<Long> pids = QemuProcesses.of(machine).stream().filter(vmm -> !vmm.conversion()).map(QemuProcesses.Vmm::pid)
                .toList();
        assertThat(pids).as("QEMU processes of " + machine).hasSize(1);
        return pids.getFirst();
    }

    @Test
    void hostsRegisterHeartbeatAndAKilledOneIsUnavailableUntilItComesBack() throws Exception {
        String token = "t-" + Ulid.next();
        Path tokenFile = dir.resolve("host.token");
        Files.writeString(tokenFile, token + "\n");
        HostPki pki = HostPki.open(dir.resolve("control-tls"));
        Path one = dir.resolve("machine-one");
        Path two = dir.resolve("machine-two");
        TestApi.linkKit(one);
        TestApi.linkKit(two);
        pki.issueHost("h1", List.of("127.0.0.1"), dir.resolve("h1-tls"));
        pki.issueHost("h2", List.of("127.0.0.1"), dir.resolve("h2-tls"));

        HostDaemonProcess h1 = null;
        HostDaemonProcess h2 = null;
        try (TestApi api = TestApi.startOver(dir.resolve("control"),
                ControlPlaneHosts.of(List.of(), token, pki.controlPlane(), DEAD_AFTER))) {
            String url = "http://127.0.0.1:" + api.server.port();
            // A heartbeat needs the host token, and a usable address.
            Reply anonymous = api.send(HttpRequest.newBuilder(api.uri("/v1/hosts/h9"))
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"address\":\"127.0.0.1:1\"}")).build());
            assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(401);
            Reply wildcard = api.send(HttpRequest.newBuilder(api.uri("/v1/hosts/h9"))
                    .header("Authorization", "Bearer " + token)
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"address\":\"0.0.0.0:7070\"}")).build());
            assertThat(wildcard.status()).as(wildcard.toString()).isEqualTo(400);
            assertThat(api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb")).status())
                    .as("no host has registered yet: 503, nothing created").isEqualTo(503);

            h1 = HostDaemonProcess.start("h1", one, dir.resolve("h1-tls"), tokenFile, "zone=a,disk=ssd", url);
            h2 = HostDaemonProcess.start("h2", two, dir.resolve("h2-tls"), tokenFile, "zone=b", url);
            JsonNode both = awaitHosts(api, h -> is(h, "h1", "active") && is(h, "h2", "active"), "both active");
            assertThat(host(both, "h1").get("labels")).isEqualTo(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(Map.of("zone", "a",
                    "disk", "ssd")));
            assertThat(api.get("/v1/rootfs", api.aliceKey).data().get("rootfs").toString()).contains("devbox:1");

            // Placement: node_selector picks by labels, host_id pins; labels no host has are a 400, no row made.
            Reply onA = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "on-a",
                    "node_selector", Map.of("zone", "a")));
            assertThat(onA.status()).as(onA.toString()).isEqualTo(200);
            String a = onA.data().get("id").asText();
            assertThat(hostOf(api, a)).isEqualTo("h1");
            Reply onB = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "on-b",
                    "host_id", "h2"));
            assertThat(onB.status()).as(onB.toString()).isEqualTo(200);
            String b = onB.data().get("id").asText();
            assertThat(hostOf(api, b)).isEqualTo("h2");
            Reply nowhere = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb",
                    "node_selector", Map.of("zone", "c")));
            assertThat(nowhere.status()).as(nowhere.toString()).isEqualTo(400);
            Reply mismatch = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "host_id", "h1",
                    "node_selector", Map.of("zone", "b")));
            assertThat(mismatch.status()).as(mismatch.toString()).isEqualTo(400);
            assertThat(exec(api, api.aliceKey, a, "hostname").data().get("result").get("stdout").asText())
                    .isEqualTo("on-a\n");
            assertThat(exec(api, api.aliceKey, b, "hostname").data().get("result").get("stdout").asText())
                    .isEqualTo("on-b\n");
            JsonNode counted = hosts(api);
            assertThat(host(counted, "h1").get("vm_count").asInt()).isEqualTo(1);
            assertThat(host(counted, "h2").get("vm_count").asInt()).isEqualTo(1);

            // A mark of this very VM: a file in its /tmp (RAM-backed: it is gone if the VM ever restarts).
            assertThat(exec(api, api.aliceKey, a, "sh", "-c", "echo kept > /tmp/mark").status()).isEqualTo(200);
            long vmPid = qemuPid(one);

            // h1's daemon is killed: within the dead-after window it is dead, and its sandbox answers 503 at once.
            h1.kill();
            awaitHosts(api, h -> is(h, "h1", "dead") && is(h, "h2", "active"), "h1 dead, h2 active");
            // At first its calls fail on the network (connection refused); once the heartbeats are overdue the
            // host is down, and they fail before any network call. 503 either way, never a hang.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                long before = System.nanoTime();
                Reply lost = exec(api, api.aliceKey, a, "true");
                assertThat(lost.status()).as(lost.toString()).isEqualTo(503);
                // A JSend error (5xx carry no domain code): its message names the host that is out of reach.
                assertThat(lost.json().get("status").asText()).as(lost.toString()).isEqualTo("error");
                assertThat(lost.json().get("message").asText()).as(lost.toString()).contains("host h1");
                assertThat(Duration.ofNanos(System.nanoTime() - before)).as("no hang").isLessThan(Duration.ofSeconds(5));
                if (lost.toString().contains("unavailable: no heartbeat for")) {
                    break;
                }
                assertThat(System.nanoTime()).as("h1 marked down for its missing heartbeats").isLessThan(deadline);
                Thread.sleep(200);
            }
            assertThat(api.get("/v1/sandboxes/" + a, api.aliceKey).data().get("status").asText())
                    .as("its row is kept as it was: the VM runs on, on its machine").isEqualTo("running");
            assertThat(ProcessHandle.of(vmPid).map(ProcessHandle::isAlive)).as("its QEMU runs on").contains(true);

            // Nothing is placed on it: an unpinned create goes to h2; pinned to h1 or its labels, 503 and no row.
            Reply elsewhere = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "c"));
            assertThat(elsewhere.status()).as(elsewhere.toString()).isEqualTo(200);
            String c = elsewhere.data().get("id").asText();
            assertThat(hostOf(api, c)).isEqualTo("h2");
            for (Object body : List.of(map("shape", "s-1vcpu-256mb", "host_id", "h1"),
                    map("shape", "s-1vcpu-256mb", "node_selector", Map.of("zone", "a")))) {
                Reply refused = api.post("/v1/sandboxes", api.bobKey, body);
                assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
            }
            assertThat(api.get("/v1/sandboxes", api.bobKey).data().get("data")).as("bob has no rows").isEmpty();
            assertThat(exec(api, api.aliceKey, b, "echo", "survivor").data().get("result").get("stdout").asText())
                    .isEqualTo("survivor\n");

            // h1 starts again (on another port): it re-registers, and its sandbox's VM, running all along, answers.
            int oldPort = h1.port;
            h1 = HostDaemonProcess.start("h1", one, dir.resolve("h1-tls"), tokenFile, "zone=a,disk=ssd", url);
            assertThat(h1.port).isNotEqualTo(oldPort);
            awaitHosts(api, h -> is(h, "h1", "active"), "h1 active again");
            Reply back = exec(api, api.aliceKey, a, "hostname");
            assertThat(back.status()).as(back.toString()).isEqualTo(200);
            assertThat(back.data().get("result").get("stdout").asText()).isEqualTo("on-a\n");
            assertThat(exec(api, api.aliceKey, a, "cat", "/tmp/mark").data().get("result").get("stdout").asText())
                    .as("the same VM, never restarted").isEqualTo("kept\n");
            assertThat(qemuPid(one)).isEqualTo(vmPid);
            JsonNode after = hosts(api);
            assertThat(host(after, "h1").get("vm_count").asInt()).isEqualTo(1);
            assertThat(host(after, "h2").get("vm_count").asInt()).isEqualTo(2);

            for (String id : List.of(a, b, c)) {
                assertThat(api.delete("/v1/sandboxes/" + id, api.aliceKey).status()).isLessThan(300);
            }
        } finally {
            for (HostDaemonProcess daemon : new HostDaemonProcess[] {h1, h2}) {
                if (daemon != null) {
                    daemon.close();
                }
            }
            HostDaemonProcess.wipe(one);
            HostDaemonProcess.wipe(two);
        }
    }
}
