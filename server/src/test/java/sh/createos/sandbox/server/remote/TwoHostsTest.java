package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.LocalHost;

/**
 * One control plane over two host daemons (each its own data directory and engine, on loopback): creates spread over
 * both, {@code host_id} is honoured, exec reaches each guest through its daemon's relay, {@code GET /v1/hosts}
 * shows both with their VM counts, pause and resume run where the sandbox is, and a daemon that is gone answers 503
 * at once while the other host serves on.
 */
class TwoHostsTest {
    @TempDir
    Path dir;

    /** The view does not show it (spec §4): the row does. */
    private static String hostOf(TestApi api, Reply created) {
        return api.server.store().sandbox(created.data().get("id").asText()).orElseThrow().hostId();
    }

    @Test
    void sandboxesSpreadOverTwoHostDaemonsAndEachIsReachedThroughItsOwn() throws Exception {
        String token = "t-" + Ulid.next();
        Path one = dir.resolve("machine-one");
        Path two = dir.resolve("machine-two");
        TestApi.linkKit(one);
        TestApi.linkKit(two);
        LocalHost engineOne = LocalHost.open(one, null);
        LocalHost engineTwo = LocalHost.open(two, null);
        HostDaemon daemonOne = HostDaemon.startPlaintextOnLoopback(engineOne, new InetSocketAddress("127.0.0.1", 0), token);
        HostDaemon daemonTwo = HostDaemon.startPlaintextOnLoopback(engineTwo, new InetSocketAddress("127.0.0.1", 0), token);
        RemoteHost h1 = RemoteHost.connectPlaintextOnLoopback("h1", "127.0.0.1", daemonOne.port(), token);
        RemoteHost h2 = RemoteHost.connectPlaintextOnLoopback("h2", "127.0.0.1", daemonTwo.port(), token);
        try (TestApi api = TestApi.startOver(dir.resolve("control"), store -> new HostsOfHosts(store,
                List.of(h1, h2)))) {
            Reply first = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "first"));
            assertThat(first.status()).as(first.toString()).isEqualTo(200);
            Reply second = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "name", "second"));
            assertThat(second.status()).as(second.toString()).isEqualTo(200);
            String firstHost = hostOf(api, first);
            String secondHost = hostOf(api, second);
            assertThat(List.of(firstHost, secondHost)).containsExactlyInAnyOrder("h1", "h2");

            for (Reply created : List.of(first, second)) {
                String id = created.data().get("id").asText();
                Reply exec = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey,
                        map("cmd", "hostname", "args", List.of()));
                assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
                assertThat(exec.data().get("result").get("stdout").asText()).isEqualTo(created.data().get("name").asText() + "\n");
            }
            JsonNode hosts = api.get("/v1/hosts", api.aliceKey).data().get("data");
            assertThat(hosts.findValuesAsText("id")).containsExactly("h1", "h2");
            assertThat(hosts.findValuesAsText("vm_count")).containsExactly("1", "1");

            Reply pinned = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "host_id", firstHost));
            assertThat(pinned.status()).as(pinned.toString()).isEqualTo(200);
            assertThat(hostOf(api, pinned)).isEqualTo(firstHost);
            Reply unknown = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "host_id", "h9"));
            assertThat(unknown.status()).as(unknown.toString()).isEqualTo(400);

            String secondId = second.data().get("id").asText();
            assertThat(api.post("/v1/sandboxes/" + secondId + "/pause", api.aliceKey, map()).data()
                    .get("status").asText()).isEqualTo("paused");
            assertThat(h2.isRunning(secondId) || h1.isRunning(secondId)).isFalse();
            Reply resumed = api.post("/v1/sandboxes/" + secondId + "/resume", api.aliceKey, map());
            assertThat(resumed.data().get("status").asText()).as(resumed.toString()).isEqualTo("running");
            assertThat(hostOf(api, resumed)).isEqualTo(secondHost);
            Reply afterResume = api.post("/v1/sandboxes/" + secondId + "/exec", api.aliceKey,
                    map("cmd", "echo", "args", List.of("back")));
            assertThat(afterResume.data().get("result").get("stdout").asText()).isEqualTo("back\n");

            // The first sandbox's daemon goes away: its calls answer 503 at once, the other host serves on.
            String firstId = first.data().get("id").asText();
            (firstHost.equals("h1") ? daemonOne : daemonTwo).close();
            Reply gone = api.post("/v1/sandboxes/" + firstId + "/exec", api.aliceKey,
                    map("cmd", "true", "args", List.of()));
            assertThat(gone.status()).as(gone.toString()).isEqualTo(503);
            assertThat(api.get("/v1/sandboxes/" + firstId, api.aliceKey).data().get("status").asText())
                    .isEqualTo("running");
            Reply still = api.post("/v1/sandboxes/" + secondId + "/exec", api.aliceKey,
                    map("cmd", "echo", "args", List.of("still")));
            assertThat(still.data().get("result").get("stdout").asText()).isEqualTo("still\n");
        } finally {
            daemonOne.close();
            daemonTwo.close();
            for (LocalHost engine : List.of(engineOne, engineTwo)) {
                // Tear the VMs down (the daemons leave them running by design).
                var inventory = engine.inventory();
                for (String id : inventory.running()) {
                    engine.destroyVm(id);
                }
                for (String id : inventory.paused().keySet()) {
                    engine.destroySnapshot(id);
                }
                engine.detachAll();
            }
        }
    }
}
