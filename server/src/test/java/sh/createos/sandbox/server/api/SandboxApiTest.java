package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * The sandbox endpoints against real VMs. One sandbox is booted for the whole class (the VMs run under TCG on
 * two cores); the last tests restart the server to prove re-attachment, then destroy it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SandboxApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private TestApi api;
    private String id;
    private String base;
    private JsonNode created;

    @BeforeAll
    void bootOne() throws Exception {
        api = TestApi.start(dir, true);
        Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "api-test",
                "envs", map("GREETING", "hello from envs", "SECRET_TOKEN", "s3cr3t-value")));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        created = reply.data();
        id = created.get("id").asText();
        base = "/v1/sandboxes/" + id;
    }

    @AfterAll
    void cleanUp() throws Exception {
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void createReturnsTheRunningViewWithoutEnvValues() {
        assertThat(id).matches("sb_[0-9A-Z]{26}");
        assertThat(created.get("status").asText()).isEqualTo("running");
        assertThat(created.get("name").asText()).isEqualTo("api-test");
        assertThat(created.get("shape").asText()).isEqualTo("s-1vcpu-512mb");
        assertThat(created.get("vcpu").asInt()).isEqualTo(1);
        assertThat(created.get("mem_mib").asInt()).isEqualTo(512);
        assertThat(created.get("disk_mib").asInt()).isEqualTo(10240);
        assertThat(created.get("rootfs").asText()).isEqualTo("devbox:1");
        assertThat(created.get("egress").isArray()).isTrue();
        assertThat(created.get("bandwidth_quota_bytes").asLong()).isEqualTo(10737418240L);
        assertThat(created.get("spawn_ms").asLong()).isPositive();
        assertThat(created.get("envs").toString()).isEqualTo("[\"GREETING\",\"SECRET_TOKEN\"]");
        assertThat(created.toString()).doesNotContain("s3cr3t-value").doesNotContain("null");
        assertThat(created.has("auto_pause_after_seconds")).isFalse();
        assertThat(created.has("ingress_url_template")).isFalse();
    }

    @Test
    @Order(2)
    void getListAndWhoamiSeeTheRunningSandbox() throws Exception {
        JsonNode view = api.get(base, api.aliceKey).data();
        assertThat(view.get("status").asText()).isEqualTo("running");
        assertThat(view.has("running_at")).isTrue();
        assertThat(view.toString()).doesNotContain("s3cr3t-value");
        JsonNode list = api.get("/v1/sandboxes?limit=500&offset=0&status=running", api.aliceKey).data();
        assertThat(list.get("data").findValuesAsText("id")).contains(id);
        assertThat(api.get("/v1/whoami", api.aliceKey).data().get("stats").get("running").asInt()).isEqualTo(1);
        assertThat(api.get(base, api.bobKey).status()).isEqualTo(404);
        JsonNode host = api.get("/v1/hosts", api.aliceKey).data().get("data").get(0);
        assertThat(host.get("status").asText()).isEqualTo("active");
        assertThat(host.get("vm_count").asInt()).isEqualTo(1);
        // The accelerator probe's finding, for the operator: what VMs run with and why.
        assertThat(host.get("accelerator").asText()).isIn("kvm", "tcg");
        assertThat(host.get("accelerator_reason").asText()).isNotBlank();
        TestApi.Reply ready = api.get("/readyz", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.data().get("accelerator").asText()).startsWith(host.get("accelerator").asText() + " (");
        JsonNode catalog = api.get("/v1/rootfs", null).data();
        assertThat(catalog.get("rootfs").toString()).contains("\"devbox:1\"").contains("\"debian:13\"");
        // Each image says what it holds (the kit's recipes); none is deprecated yet, so the field is omitted.
        for (JsonNode entry : catalog.get("entries")) {
            assertThat(entry.get("description").asText()).as("description of %s", entry.get("name")).isNotBlank();
            assertThat(entry.has("deprecated")).isFalse();
        }
    }

    @Test
    @Order(2)
    void aSecondLiveSandboxWithTheSameNameIs409() throws Exception {
        Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "api-test"));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(409);
        assertThat(reply.data().get("code").asText()).isEqualTo("NAME_TAKEN");
        assertThat(api.get("/v1/sandboxes", api.aliceKey).data().get("pagination").get("total").asInt()).isEqualTo(1);
    }

    @Test
    @Order(3)
    void bufferedExecRunsWithoutAShellWithTheSandboxEnvs() throws Exception {
        JsonNode echo = exec("echo", "a b", "$GREETING");
        assertThat(echo.get("result").toString()).isEqualTo(
                "{\"stdout\":\"a b $GREETING\\n\",\"stderr\":\"\",\"exit_code\":0}");
        assertThat(echo.get("exec_ms").isIntegralNumber()).isTrue();
        JsonNode env = exec("bash", "-lc", "echo \"$GREETING\"; echo oops >&2; exit 7").get("result");
        assertThat(env.get("stdout").asText()).isEqualTo("hello from envs\n");
        assertThat(env.get("stderr").asText()).isEqualTo("oops\n");
        assertThat(env.get("exit_code").asInt()).isEqualTo(7);
        JsonNode big = exec("bash", "-c", "head -c 20000000 /dev/zero | tr '\\0' x; echo done >&2").get("result");
        assertThat(big.get("stdout").asText()).hasSize(BufferedExec.MAX_CAPTURE);
        assertThat(big.get("stderr").asText()).isEqualTo("done\n");
        assertThat(big.get("error").asText()).contains("truncated");
        JsonNode missing = exec("/no/such/binary").get("result");
        assertThat(missing.get("error").asText()).isNotEmpty();
        assertThat(missing.get("exit_code").asInt()).isNotZero();
    }

    @Test
    @Order(4)
    void backgroundDaemonsDoNotHoldTheExecOpen() throws Exception {
        long start = System.nanoTime();
        JsonNode result = exec("bash", "-c", "nohup setsid sleep 600 >/tmp/daemon.log 2>&1 & echo started")
                .get("result");
        assertThat(result.get("stdout").asText()).isEqualTo("started\n");
        assertThat((System.nanoTime() - start) / 1_000_000_000).isLessThan(20);
        assertThat(exec("pgrep", "-f", "sleep 600").get("result").get("exit_code").asInt()).isZero();
    }

    @Test
    @Order(5)
    void streamedExecIsNdjsonWithHeartbeatsAndTheExitCodeLast() throws Exception {
        HttpResponse<java.util.stream.Stream<String>> response = api.client().send(
                TestApi.withKey(api.request(base + "/exec?stream=true"), api.aliceKey)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(map("cmd", "bash",
                                "args", List.of("-c", "echo first; sleep 6; echo second >&2; printf 'é'; exit 3"),
                                "stream", true))))
                        .build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).contains("application/x-ndjson");
        List<JsonNode> frames = new ArrayList<>();
        for (String line : (Iterable<String>) response.body()::iterator) {
            frames.add(JSON.readTree(line));
        }
        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        int heartbeats = 0;
        for (JsonNode frame : frames.subList(0, frames.size() - 1)) {
            assertThat(frame.size()).as(frame.toString()).isEqualTo(1);
            if (frame.has("stdout")) {
                stdout.append(frame.get("stdout").asText());
            } else if (frame.has("stderr")) {
                stderr.append(frame.get("stderr").asText());
            } else {
                assertThat(frame.toString()).isEqualTo("{\"hb\":true}");
                heartbeats++;
            }
        }
        assertThat(stdout.toString()).isEqualTo("first\né");
        assertThat(stderr.toString()).isEqualTo("second\n");
        assertThat(heartbeats).isGreaterThanOrEqualTo(1);
        assertThat(frames.getLast().toString()).isEqualTo("{\"exit_code\":3}");
    }

    @Test
    @Order(6)
    void aStreamClientThatDisconnectsKillsTheCommandTree() throws Exception {
        byte[] body = JSON.writeValueAsBytes(map("cmd", "bash",
                "args", List.of("-c", "sleep 777 & echo running; wait"), "stream", true));
        try (Socket socket = new Socket("127.0.0.1", api.server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + base + "/exec?stream=true HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: " + api.aliceKey
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (line.contains("running")) {
                    break;
                }
            }
            assertThat(exec("pgrep", "-f", "sleep 777").get("result").get("exit_code").asInt()).isZero();
        }
        // The next heartbeat write (≤ 5 s) finds the client gone and kills the tree.
        long deadline = System.nanoTime() + 20_000_000_000L;
        int pgrep;
        do {
            Thread.sleep(500);
            pgrep = exec("pgrep", "-f", "sleep 777").get("result").get("exit_code").asInt();
        } while (pgrep == 0 && System.nanoTime() < deadline);
        assertThat(pgrep).as("sleep 777 still runs after its client left").isEqualTo(1);
    }

    @Test
    @Order(7)
    void filesUploadAndDownloadAsStreamsOfBytes() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(data);
        Reply put = api.send(TestApi.withKey(api.request(base + "/files?path=%2Froot%2Fup+load%2Fdata.bin"),
                        api.aliceKey).header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(data))).build());
        assertThat(put.status()).as(put.toString()).isEqualTo(200);
        assertThat(put.json().toString()).isEqualTo("{\"status\":\"success\",\"data\":{}}");
        assertThat(exec("stat", "-c", "%s", "/root/up load/data.bin").get("result").get("stdout").asText())
                .isEqualTo(data.length + "\n");

        HttpResponse<InputStream> get = api.client().send(TestApi.withKey(
                api.request(base + "/files?path=%2Froot%2Fup+load%2Fdata.bin"), api.aliceKey).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("Content-Length")).contains(String.valueOf(data.length));
        assertThat(get.headers().firstValue("Content-Type").orElse("")).isEqualTo("application/octet-stream");
        try (InputStream body = get.body()) {
            assertThat(body.readAllBytes()).isEqualTo(data);
        }

        Reply missing = api.get(base + "/files?path=%2Fno%2Fsuch%2Ffile", api.aliceKey);
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.header("Content-Type")).contains("application/json");
        assertThat(api.get(base + "/files?path=%2Froot", api.aliceKey).status()).isEqualTo(400);
    }

    @Test
    @Order(8)
    void anUploadThatDoesNotFitIs507AndLeavesNoPartialFile() throws Exception {
        // Every free block but (at most) 1 MiB, the blocks reserved for root included: exec runs as root.
        JsonNode fill = exec("bash", "-c", "n=$(( $(stat -f -c '%f*%S' /) )); "
                + "until fallocate -l $n /root/filler 2>/dev/null; do n=$(( n - 1048576 )); done").get("result");
        assertThat(fill.get("exit_code").asInt()).as(fill.toString()).isZero();
        byte[] data = new byte[8 * 1024 * 1024];
        try {
            Reply put = api.send(TestApi.withKey(api.request(base + "/files?path=%2Froot%2Ftoo-big.bin"),
                            api.aliceKey).header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).build());
            assertThat(put.status()).as(put.toString()).isEqualTo(507);
            assertThat(put.json().get("status").asText()).isEqualTo("error");
            assertThat(put.json().get("message").asText()).contains("no space left");
            assertThat(api.get(base + "/files?path=%2Froot%2Ftoo-big.bin", api.aliceKey).status()).isEqualTo(404);
        } finally {
            exec("rm", "-f", "/root/filler");
        }
    }

    @Test
    @Order(9)
    void resizeGrowsTheDiskAndTheGuestFilesystem() throws Exception {
        long before = rootSizeMib();
        Reply reply = api.post(base + "/resize", api.aliceKey, map("disk_mib", 12288));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        assertThat(reply.data().toString()).isEqualTo("{\"id\":\"" + id + "\",\"disk_mib\":12288}");
        assertThat(rootSizeMib()).isGreaterThan(before + 1500);
        assertThat(api.get(base, api.aliceKey).data().get("disk_mib").asInt()).isEqualTo(12288);
        assertThat(api.post(base + "/resize", api.aliceKey, map("disk_mib", 12288)).status()).isEqualTo(400);
        assertThat(api.post(base + "/resize", api.aliceKey, map("disk_mib", 1024)).status()).isEqualTo(400);
    }

    @Test
    @Order(10)
    void sshKeysAreValidatedDeduplicatedAndShown() throws Exception {
        String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";
        String sameKeyOtherComment = key.replace("alice@laptop", "other");
        Reply first = api.post(base + "/ssh-pubkeys", api.aliceKey, map("keys", List.of(key, sameKeyOtherComment)));
        assertThat(first.data().toString()).isEqualTo("{\"count\":1}");
        assertThat(api.post(base + "/ssh-pubkeys", api.aliceKey, map("keys", List.of(key))).data().get("count")
                .asInt()).isEqualTo(1);
        Reply bad = api.post(base + "/ssh-pubkeys", api.aliceKey,
                map("keys", List.of("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==")));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(api.get(base, api.aliceKey).data().get("ssh_pubkeys").toString()).isEqualTo("[\"" + key + "\"]");
    }

    @Test
    @Order(11)
    void patchStoresAndReflectsIngressAndAutoPause() throws Exception {
        JsonNode on = api.patch(base, api.aliceKey, map("auto_pause_after_seconds", 300)).data();
        assertThat(on.get("id").asText()).isEqualTo(id);
        assertThat(on.get("auto_pause_after_seconds").asInt()).isEqualTo(300);
        JsonNode ingress = api.patch(base, api.aliceKey, map("ingress_enabled", true)).data();
        assertThat(ingress.get("ingress_enabled").asBoolean()).isTrue();
        assertThat(ingress.get("auto_pause_after_seconds").asInt()).isEqualTo(300);
        JsonNode off = api.patch(base, api.aliceKey, map("disable_auto_pause", true)).data();
        assertThat(off.has("auto_pause_after_seconds")).isFalse();
        JsonNode ingressOff = api.patch(base, api.aliceKey, map("ingress_enabled", false)).data();
        assertThat(ingressOff.get("ingress_enabled").asBoolean()).isFalse();
        assertThat(ingressOff.has("ingress_url_template")).isFalse();
        assertThat(api.get(base, api.aliceKey).data().has("auto_pause_after_seconds")).isFalse();
    }

    @Test
    @Order(12)
    void aDiskSmallerThanTheImageIs400BeforeAnyRowOrVm() throws Exception {
        // Issue 18: this was a 500 BOOT_FAILED after the row was written (the boot of a 1 MiB disk failed).
        Reply reply = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "disk_mib", 1));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(400);
        assertThat(reply.data().get("message").asText()).contains("smaller than the image devbox:1");
        assertThat(api.get("/v1/sandboxes?status=failed", api.bobKey).data().get("data")).isEmpty();
    }

    @Test
    @Order(13)
    void aRestartLetsInFlightRequestsFinishAndReattachesToTheRunningVm() throws Exception {
        var inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return exec("bash", "-c", "sleep 3; echo finished");
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        Thread.sleep(1000);
        api = api.restart();
        assertThat(inFlight.get().get("result").get("stdout").asText()).isEqualTo("finished\n");
        assertThat(api.get(base, api.aliceKey).data().get("status").asText()).isEqualTo("running");
        assertThat(exec("cat", "/tmp/daemon.log").get("result").get("exit_code").asInt()).isZero();
        assertThat(exec("pgrep", "-f", "sleep 600").get("result").get("exit_code").asInt()).isZero();
    }

    @Test
    @Order(14)
    void destroyIsAsyncIdempotentAndTheRowStaysReadable() throws Exception {
        Reply first = api.delete(base, api.aliceKey);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.data().get("status").asText()).isIn("destroying", "destroyed");
        String status;
        long deadline = System.nanoTime() + 30_000_000_000L;
        do {
            Thread.sleep(250);
            JsonNode view = api.get(base, api.aliceKey).data();
            status = view.get("status").asText();
            assertThat(view.has("destroyed_at")).isTrue();
        } while (!status.equals("destroyed") && System.nanoTime() < deadline);
        assertThat(status).isEqualTo("destroyed");
        assertThat(dir.resolve("vms").resolve(SandboxService.vmId(id))).doesNotExist();
        assertThat(api.delete(base, api.aliceKey).data().get("status").asText()).isEqualTo("destroyed");
        assertThat(api.post(base + "/exec", api.aliceKey, map("cmd", "true", "args", List.of())).status())
                .isEqualTo(409);
        assertThat(api.get("/v1/sandboxes", api.aliceKey).data().get("data").findValuesAsText("id"))
                .doesNotContain(id);
        assertThat(api.get("/v1/sandboxes?status=destroyed", api.aliceKey).data().get("data")
                .findValuesAsText("id")).contains(id);
        id = null;
    }

    @Test
    @Order(15)
    void aSandboxWhoseVmDiesBecomesErrorAndCanStillBeDestroyed() throws Exception {
        Reply reply = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb"));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        String doomed = "/v1/sandboxes/" + reply.data().get("id").asText();
        Path vmDir = dir.resolve("vms").resolve(SandboxService.vmId(reply.data().get("id").asText()));
        long pid = Long.parseLong(java.nio.file.Files.readString(vmDir.resolve("qemu.pid")).trim());
        var stream = api.client().sendAsync(TestApi.withKey(api.request(doomed + "/exec?stream=true"), api.bobKey)
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(map("cmd", "bash",
                        "args", List.of("-c", "echo up; sleep 600"))))).build(), HttpResponse.BodyHandlers.ofLines());
        var lines = stream.get().body().iterator();
        assertThat(lines.next()).isEqualTo("{\"stdout\":\"up\\n\"}");
        String sandboxId = reply.data().get("id").asText();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        // Nobody calls: the host's exit event alone moves the row to error, with the reason, within 2 s.
        long exitDeadline = System.nanoTime() + 2_000_000_000L;
        var row = api.server.store().sandbox(sandboxId).orElseThrow();
        while (row.status() != sh.createos.sandbox.model.SandboxStatus.ERROR && System.nanoTime() < exitDeadline) {
            Thread.sleep(50);
            row = api.server.store().sandbox(sandboxId).orElseThrow();
        }
        assertThat(row.status()).as("2 s after kill -9 of QEMU").isEqualTo(sh.createos.sandbox.model.SandboxStatus.ERROR);
        assertThat(row.failure()).contains("exited unexpectedly");
        String last = null;
        while (lines.hasNext()) {
            last = lines.next();
        }
        assertThat(last).as("the stream tells in-band that the agent is gone").startsWith("{\"error\":");
        Reply exec = api.post(doomed + "/exec", api.bobKey, map("cmd", "true", "args", List.of()));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(409);
        assertThat(api.get(doomed, api.bobKey).data().get("status").asText()).isEqualTo("error");
        assertThat(api.delete(doomed, api.bobKey).status()).isEqualTo(200);
        String status;
        long deadline = System.nanoTime() + 30_000_000_000L;
        do {
            Thread.sleep(250);
            status = api.get(doomed, api.bobKey).data().get("status").asText();
        } while (!status.equals("destroyed") && System.nanoTime() < deadline);
        assertThat(status).isEqualTo("destroyed");
        assertThat(vmDir).doesNotExist();
    }

    @Test
    @Order(16)
    void aDeleteDuringBootWinsAndTheBootedVmIsReclaimed() throws Exception {
        var create = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "name", "short-lived"));
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        String booting = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (booting == null && System.nanoTime() < deadline) {
            JsonNode rows = api.get("/v1/sandboxes?status=creating", api.bobKey).data().get("data");
            booting = rows.isEmpty() ? null : rows.get(0).get("id").asText();
            Thread.sleep(booting == null ? 50 : 0);
        }
        assertThat(booting).as("the creating row is visible while the VM boots").isNotNull();
        assertThat(api.get("/v1/sandboxes/" + booting, api.bobKey).data().has("ip")).isFalse();
        assertThat(api.delete("/v1/sandboxes/" + booting, api.bobKey).data().get("status").asText())
                .isEqualTo("destroying");
        Reply created = create.get();
        assertThat(created.status()).as(created.toString()).isEqualTo(409);
        assertThat(api.get("/v1/sandboxes/" + booting, api.bobKey).data().get("status").asText())
                .isEqualTo("destroyed");
        assertThat(dir.resolve("vms").resolve(SandboxService.vmId(booting))).doesNotExist();
    }

    private JsonNode exec(String cmd, String... args) throws Exception {
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", cmd, "args", List.of(args)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data();
    }

    private long rootSizeMib() throws Exception {
        String out = exec("df", "--output=size", "-BM", "/").get("result").get("stdout").asText();
        return Long.parseLong(out.lines().toList().getLast().trim().replace("M", ""));
    }

}
