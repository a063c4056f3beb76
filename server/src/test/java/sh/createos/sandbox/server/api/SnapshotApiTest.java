package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.network.TestNetworks;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * Pause, resume, fork, self-signals and idle auto-pause through the API on real VMs (issue 4's "done when"): a
 * Python process counting in memory keeps counting after pause → resume, a file written before the pause is still
 * there, and a fork sees the parent's memory and files and then diverges from it. One parent and at most one child
 * run at a time, on the host's real network (own nft instance and pools). The server allows auto-pause after 2 s
 * (its {@code --auto-pause-min-seconds} setting).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    private static final String COUNTER = """
            import os, time
            n = 0
            while True:
                n += 1
                with open("/tmp/count.tmp", "w") as f:
                    f.write(f"{os.getpid()} {n}")
                os.replace("/tmp/count.tmp", "/tmp/count")
                time.sleep(0.1)
            """;
    @TempDir
    static Path dir;
    private NetworkConfig network;
    private TestApi api;
    private String parent;
    private String child;
    /** The counter's pid and count just before the pause. */
    private long[] beforePause;

    @BeforeAll
    void bootParent() throws Exception {
        network = TestNetworks.config(dir);
        api = TestApi.start(dir, true, config -> config.withAutoPauseMinSeconds(2).withNetwork(network));
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "snap-parent",
                "envs", map("GREETING", "parent")));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        parent = "/v1/sandboxes/" + created.data().get("id").asText();
        Reply upload = api.send(TestApi.withKey(api.request(parent + "/files?path=%2Froot%2Fcounter.py"), api.aliceKey)
                .PUT(HttpRequest.BodyPublishers.ofString(COUNTER)).build());
        assertThat(upload.status()).as(upload.toString()).isEqualTo(200);
        sh(parent, "nohup setsid python3 /root/counter.py >/dev/null 2>&1 & echo written-before-pause > /root/before");
    }

    /** The server leaves its network's kernel objects for a next start; this test's instance has none, so they go. */
    @AfterAll
    void cleanUp() throws Exception {
        if (api != null) {
            api.close();
            TestNetworks.destroy(network);
        }
    }

    @Test
    @Order(1)
    void pauseSavesTheSandboxAndThenOnlyReadsResumeForkAndDestroyAreAllowed() throws Exception {
        beforePause = counterAfter(parent, 0, -1);
        Reply paused = post(parent + "/pause", null);
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        JsonNode view = paused.data();
        assertThat("/v1/sandboxes/" + view.get("id").asText()).isEqualTo(parent);
        assertThat(view.get("status").asText()).isEqualTo("paused");
        assertThat(view.get("paused_at").asText()).isNotEmpty();
        assertThat(view.has("forked_from")).isFalse();
        assertThat(api.get(parent, api.aliceKey).data().get("status").asText()).isEqualTo("paused");
        assertThat(api.get("/v1/hosts", api.aliceKey).data().get("data").get(0).get("vm_count").asInt())
                .as("a paused sandbox holds no VMM process").isZero();
        Reply exec = api.post(parent + "/exec", api.aliceKey, map("cmd", "true"));
        assertThat(exec.status()).isEqualTo(409);
        assertThat(exec.data().get("message").asText()).contains("paused").contains("resume it first");
        assertThat(post(parent + "/pause", null).status()).isEqualTo(409);
    }

    @Test
    @Order(2)
    void aForkSeesTheParentsMemoryAndFilesThenBothDiverge() throws Exception {
        Reply forked = post(parent + "/fork", map("envs", map("GREETING", "child")));
        assertThat(forked.status()).as(forked.toString()).isEqualTo(200);
        JsonNode view = forked.data();
        child = "/v1/sandboxes/" + view.get("id").asText();
        assertThat(child).isNotEqualTo(parent);
        assertThat(view.get("status").asText()).isEqualTo("running");
        assertThat("/v1/sandboxes/" + view.get("forked_from").asText()).isEqualTo(parent);
        assertThat(view.get("spawn_ms").asLong()).isPositive();
        assertThat(view.get("shape").asText()).isEqualTo("s-1vcpu-256mb");
        assertThat(view.get("envs").toString()).isEqualTo("[\"GREETING\"]");
        String parentIp = api.get(parent, api.aliceKey).data().get("ip").asText();
        String childIp = view.get("ip").asText();
        assertThat(childIp).as("the fork's own address").isNotEmpty().isNotEqualTo(parentIp);
        assertThat(sh(child, "ip -4 -o addr show scope global")).contains(" " + childIp + "/")
                .doesNotContain(" " + parentIp + "/");

        long[] inChild = counterAfter(child, beforePause[1], beforePause[0]);
        assertThat(inChild[0]).as("the parent's counting process, restored").isEqualTo(beforePause[0]);
        assertThat(sh(child, "cat /root/before; echo \"$GREETING\"")).isEqualTo("written-before-pause\nchild\n");
        sh(child, "echo child > /root/child-only");
        assertThat(api.get(parent, api.aliceKey).data().get("status").asText()).isEqualTo("paused");

        Reply pausedFork = post(parent + "/fork", map("start_paused", true, "bandwidth_quota_bytes", 123456789,
                "ssh_pubkeys", List.of(KEY), "ingress_enabled", true));
        assertThat(pausedFork.status()).as(pausedFork.toString()).isEqualTo(200);
        JsonNode second = pausedFork.data();
        assertThat(second.get("status").asText()).isEqualTo("paused");
        assertThat(second.get("paused_at").asText()).isNotEmpty();
        assertThat(second.has("running_at")).isFalse();
        assertThat(second.get("envs").toString()).as("inherited").isEqualTo("[\"GREETING\"]");
        assertThat(second.get("ssh_pubkeys").toString()).as("overridden").isEqualTo("[\"" + KEY + "\"]");
        assertThat(second.get("ingress_enabled").asBoolean()).isTrue();
        assertThat(second.get("ingress_url_template").asText()).contains("<port>");
        String secondBase = "/v1/sandboxes/" + second.get("id").asText();
        assertThat(api.get(secondBase + "/bandwidth", api.aliceKey).data().get("quota_bytes").asLong())
                .isEqualTo(123456789L);
        destroyAndWait(secondBase);
        assertThat(dir.resolve("vms").resolve(vmId(secondBase))).doesNotExist();
    }

    @Test
    @Order(3)
    void aForkInProgressIsVisibleAndADeleteMeanwhileReclaimsTheChild() throws Exception {
        CompletableFuture<Reply> fork = CompletableFuture.supplyAsync(() -> {
            try {
                return post(parent + "/fork", map());
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        String forking = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (forking == null && !fork.isDone() && System.nanoTime() < deadline) {
            JsonNode rows = api.get("/v1/sandboxes?status=forking", api.aliceKey).data().get("data");
            forking = rows.isEmpty() ? null : rows.get(0).get("id").asText();
            Thread.sleep(forking == null ? 20 : 0);
        }
        assertThat(forking).as("the forking child is visible while the engine restores it").isNotNull();
        assertThat(api.delete("/v1/sandboxes/" + forking, api.aliceKey).data().get("status").asText())
                .isEqualTo("destroying");
        Reply answer = fork.get();
        assertThat(answer.status()).as(answer.toString()).isEqualTo(409);
        assertThat(answer.data().get("message").asText()).contains("destroyed while forking");
        assertThat(api.get("/v1/sandboxes/" + forking, api.aliceKey).data().get("status").asText())
                .isEqualTo("destroyed");
        assertThat(dir.resolve("vms").resolve(SandboxService.vmId(forking))).doesNotExist();
        assertThat(api.get(parent, api.aliceKey).data().get("status").asText()).isEqualTo("paused");
    }

    @Test
    @Order(4)
    void resumeContinuesTheSameMemoryAndDisk() throws Exception {
        Reply resumed = post(parent + "/resume", null);
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        JsonNode view = resumed.data();
        assertThat(view.get("status").asText()).isEqualTo("running");
        assertThat(view.get("last_resumed_at").asText()).isEqualTo(view.get("running_at").asText());
        assertThat(view.get("spawn_ms").asLong()).isPositive();
        assertThat(post(parent + "/resume", null).status()).isEqualTo(409);
        assertThat(sh(parent, "ip -4 -o addr show scope global")).contains(" " + view.get("ip").asText() + "/");

        long[] after = counterAfter(parent, beforePause[1], beforePause[0]);
        assertThat(after[0]).as("the same process kept counting").isEqualTo(beforePause[0]);
        assertThat(sh(parent, "cat /root/before; echo \"$GREETING\"")).isEqualTo("written-before-pause\nparent\n");
        assertThat(sh(parent, "test -e /root/child-only && echo shared || echo own")).isEqualTo("own\n");
        sh(parent, "echo parent > /root/parent-only");
        assertThat(sh(child, "test -e /root/parent-only && echo shared || echo own")).isEqualTo("own\n");
        long[] childNow = counter(child);
        long[] parentNow = counter(parent);
        assertThat(childNow[0]).isEqualTo(parentNow[0]);
        assertThat(counterAfter(child, childNow[1], childNow[0])[1]).isGreaterThan(childNow[1]);
    }

    @Test
    @Order(5)
    void theGuestPausesAndDeletesItselfThroughTheAgentOnLoopback() throws Exception {
        // In the background: the pause freezes the guest right after curl got its answer.
        sh(child, "nohup setsid bash -c \"curl -s -o /dev/null -w '%{http_code}' -X POST "
                + "'http://127.0.0.1:1029/self/pause?reason=job+done' > /root/self-pause.out\" >/dev/null 2>&1 &");
        assertThat(waitFor(child, "paused")).isEqualTo("paused");
        Reply resumed = post(child + "/resume", null);
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        assertThat(sh(child, "cat /root/child-only")).isEqualTo("child\n");
        assertThat(sh(child, "for i in $(seq 50); do test -s /root/self-pause.out && break; sleep 0.1; done; "
                + "cat /root/self-pause.out")).isEqualTo("202");

        // The delete takes the guest, and with it whatever curl wrote, away: only the effect can be checked here;
        // the pause above checked the answer (the agent answers both the same way, before it queues the signal).
        sh(child, "nohup setsid curl -s -X POST 'http://127.0.0.1:1029/self/delete?reason=all+finished' "
                + ">/dev/null 2>&1 &");
        assertThat(waitFor(child, "destroyed")).isEqualTo("destroyed");
        assertThat(dir.resolve("vms").resolve(vmId(child))).doesNotExist();
    }

    @Test
    @Order(6)
    void anIdleSandboxIsPausedButNotWhileACommandRunsOrItsNetworkIsBusy() throws Exception {
        assertThat(api.patch(parent, api.aliceKey, map("auto_pause_after_seconds", 1)).status()).isEqualTo(400);
        Reply on = api.patch(parent, api.aliceKey, map("auto_pause_after_seconds", 2));
        assertThat(on.status()).as(on.toString()).isEqualTo(200);
        // A 3 s command that leaves ≥ 10 s of UDP packets (to the discard port; whether they arrive does not
        // matter: leaving the sandbox is traffic) running after it.
        String script = "nohup setsid bash -c 'for i in $(seq 40); do echo x > /dev/udp/1.1.1.1/9; sleep 0.25; done' "
                + ">/dev/null 2>&1 & sleep 3";
        CompletableFuture<List<String>> output = api.client().sendAsync(
                TestApi.withKey(api.request(parent + "/exec?stream=true"), api.aliceKey)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"cmd\":\"bash\",\"args\":[\"-c\","
                                + JSON.writeValueAsString(script) + "]}")).build(),
                HttpResponse.BodyHandlers.ofLines()).thenApply(response -> response.body().toList());
        List<String> whileRunning = new ArrayList<>();
        while (!output.isDone()) {
            whileRunning.add(api.get(parent, api.aliceKey).data().get("status").asText());
            Thread.sleep(500);
        }
        assertThat(output.get().getLast()).isEqualTo("{\"exit_code\":0}");
        assertThat(whileRunning).as("statuses while the command ran").hasSizeGreaterThan(3).containsOnly("running");
        List<String> whileSending = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            whileSending.add(api.get(parent, api.aliceKey).data().get("status").asText());
            Thread.sleep(500);
        }
        assertThat(whileSending).as("statuses while only the network was busy").containsOnly("running");
        assertThat(waitFor(parent, "paused")).isEqualTo("paused");
        assertThat(api.get(parent, api.aliceKey).data().get("auto_pause_after_seconds").asInt()).isEqualTo(2);
    }

    @Test
    @Order(7)
    void deletingAPausedSandboxRemovesItsSnapshot() throws Exception {
        assertThat(api.get(parent, api.aliceKey).data().get("status").asText()).isEqualTo("paused");
        destroyAndWait(parent);
        assertThat(dir.resolve("vms").resolve(vmId(parent))).doesNotExist();
        Path layers = dir.resolve("layers");
        if (Files.isDirectory(layers)) {
            try (Stream<Path> left = Files.list(layers)) {
                assertThat(left.toList()).as("disk layers left after every sandbox is gone").isEmpty();
            }
        }
    }

    private Reply post(String path, Object body) throws Exception {
        HttpRequest.Builder request = TestApi.withKey(api.request(path), api.aliceKey);
        if (body == null) {
            return api.send(request.POST(HttpRequest.BodyPublishers.noBody()).build());
        }
        return api.post(path, api.aliceKey, body);
    }

    private String sh(String base, String script) throws Exception {
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", "bash", "args", List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        JsonNode result = reply.data().get("result");
        assertThat(result.get("exit_code").asInt()).as(result.toString()).isZero();
        return result.get("stdout").asText();
    }

    /** {pid, count} of the counter; {0, 0} before it first wrote. */
    private long[] counter(String base) throws Exception {
        String[] parts = sh(base, "cat /tmp/count 2>/dev/null || echo 0 0").trim().split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    /** The counter once it has passed {@code count}; its pid must stay {@code pid} (or any, when -1). */
    private long[] counterAfter(String base, long count, long pid) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long[] now;
        do {
            now = counter(base);
            if (pid != -1 && now[0] != 0) {
                assertThat(now[0]).as("the counter's pid").isEqualTo(pid);
            }
            if (now[1] > count) {
                return now;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the counter in " + base + " stayed at " + now[1] + ", not past " + count);
    }

    private String waitFor(String base, String wanted) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        String status;
        do {
            Thread.sleep(250);
            status = api.get(base, api.aliceKey).data().get("status").asText();
        } while (!status.equals(wanted) && System.nanoTime() < deadline);
        return status;
    }

    private void destroyAndWait(String base) throws Exception {
        assertThat(api.delete(base, api.aliceKey).status()).isEqualTo(200);
        assertThat(waitFor(base, "destroyed")).isEqualTo("destroyed");
    }

    private static String vmId(String base) {
        return SandboxService.vmId(base.substring(base.lastIndexOf('/') + 1));
    }
}
