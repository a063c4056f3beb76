package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.network.TestNetworks;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * Issue 18 item 9 through the API, on real VMs with the host's real network: a sandbox whose agent is gone and one
 * whose VM hangs. Calls waiting on them fail (at once when the guest closed the agent's port, at the agent's answer
 * timeout when nothing answers), DELETE still ends in {@code destroyed}, the user's cap is free again and their
 * private network can be deleted (it once stayed 409 NETWORK_IN_USE behind a DELETE that never finished).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class StuckGuestApiTest {
    /** The agent's answer timeout in this test's server, instead of 60 s. */
    private static final String ANSWER_TIMEOUT_MS = "15000";
    @TempDir
    static Path dir;
    private NetworkConfig network;
    private TestApi api;

    @BeforeAll
    void start() throws Exception {
        System.setProperty("createos.agent.answer-timeout-ms", ANSWER_TIMEOUT_MS);
        network = TestNetworks.config(dir);
        api = TestApi.start(dir, true, c -> c.withNetwork(network));
    }

    @AfterAll
    void stop() throws Exception {
        System.clearProperty("createos.agent.answer-timeout-ms");
        if (api != null) {
            api.close();
            TestNetworks.destroy(network);
        }
    }

    @Test
    void aSandboxWhoseAgentIsGoneFailsItsCallsAtOnceAndStillDestroys() throws Exception {
        String net = network("gone-net");
        String id = create("agent-gone", net);
        CompletableFuture<Reply> sleeping = CompletableFuture.supplyAsync(() -> exec(id, "sleep 600"));
        Thread.sleep(500);
        // The guest unbinds the agent port's device (its PID 1 agent cannot be killed or stopped from inside).
        Reply unbind = exec(id, UNBIND);
        assertThat(unbind.status()).as(unbind.toString()).isEqualTo(500);
        assertThat(unbind.toString()).contains("closed the agent's port");
        // The sleep would run for 10 minutes and nothing bounds the wait for its exit: only the loss ends it.
        Reply slept = sleeping.get(60, TimeUnit.SECONDS);
        assertThat(slept.status()).as(slept.toString()).isEqualTo(500);
        assertThat(slept.toString()).contains("closed the agent's port");
        int disk = api.get("/v1/sandboxes/" + id, api.aliceKey).data().get("disk_mib").asInt();
        Reply resize = api.post("/v1/sandboxes/" + id + "/resize", api.aliceKey, map("disk_mib", disk + 256));
        assertThat(resize.status()).as(resize.toString()).isGreaterThanOrEqualTo(400);
        destroyAndAwait(id);
        deleteNetwork(net, id);
    }

    @Test
    void aSandboxWhoseVmHangsFailsItsCallsAtTheAnswerTimeoutAndStillDestroys() throws Exception {
        String net = network("hang-net");
        String id = create("vm-hangs", net);
        long qemu = Long.parseLong(Files.readString(dir.resolve("vms").resolve(SandboxService.vmId(id))
                .resolve("qemu.pid")).strip());
        Command.of("kill", "-STOP", Long.toString(qemu)).run();
        try {
            Reply exec = exec(id, "true");
            assertThat(exec.status()).as(exec.toString()).isEqualTo(500);
            assertThat(exec.toString()).contains("did not answer within " + ANSWER_TIMEOUT_MS + " ms");
            // QMP does not answer either: the destroy's quit times out and the VMM is killed.
            destroyAndAwait(id);
        } finally {
            // Only a VMM the destroy did not end is still there to let go (once killed and reaped, kill would fail).
            if (isRunning(qemu)) {
                Command.of("kill", "-CONT", Long.toString(qemu)).run();
            }
        }
        assertThat(isRunning(qemu)).as("qemu pid %d runs", qemu).isFalse();
        deleteNetwork(net, id);
    }

    /** After a second, so that the exec's start is answered before the port goes. */
    static final String UNBIND = "p=$(readlink -f /sys/class/virtio-ports/vport*); v=${p%/virtio-ports/*};"
            + " sleep 1; echo -n ${v##*/} > /sys/bus/virtio/drivers/virtio_console/unbind";

    /** Alive and not a zombie (a daemonized VMM's parent may not reap it). */
    private static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (java.io.IOException gone) {
            return false;
        }
    }

    private String create(String name, String net) throws Exception {
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", name,
                "networks", List.of(map("id", net))));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        return created.data().get("id").asText();
    }

    private Reply exec(String id, String script) {
        try {
            return api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "sh", "args",
                    List.of("-c", script)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** DELETE, then the row reaches destroyed, leaves the user's count and its VM directory is gone. */
    private void destroyAndAwait(String id) throws Exception {
        Reply deleted = api.delete("/v1/sandboxes/" + id, api.aliceKey);
        assertThat(deleted.status()).as(deleted.toString()).isEqualTo(200);
        String status = deleted.data().get("status").asText();
        for (int i = 0; i < 240 && !status.equals("destroyed"); i++) {
            Thread.sleep(250);
            status = api.get("/v1/sandboxes/" + id, api.aliceKey).data().get("status").asText();
        }
        assertThat(status).isEqualTo("destroyed");
        assertThat(dir.resolve("vms").resolve(SandboxService.vmId(id))).doesNotExist();
        assertThat(api.server.store().countByStatus(api.alice.id())).doesNotContainKey(
                sh.createos.sandbox.model.SandboxStatus.DESTROYING);
    }

    /** The network has no member left and deletes. */
    private void deleteNetwork(String net, String id) throws Exception {
        Reply view = api.get("/v1/networks/" + net, api.aliceKey);
        assertThat(view.data().get("members").findValuesAsText("sandbox_id")).doesNotContain(id);
        Reply deleted = api.delete("/v1/networks/" + net, api.aliceKey);
        assertThat(deleted.status()).as(deleted.toString()).isIn(200, 204);
    }

    private String network(String name) throws Exception {
        Reply created = api.post("/v1/networks", api.aliceKey, map("name", name));
        assertThat(created.status()).as(created.toString()).isIn(200, 201);
        return created.data().get("id").asText();
    }
}
