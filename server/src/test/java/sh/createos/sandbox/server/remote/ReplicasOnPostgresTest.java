package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.PostgresCluster;

/**
 * Two control-plane replicas (processes) on one real PostgreSQL database, over two host daemons (processes) that
 * heartbeat to both: each replica knows both hosts; a sandbox created through one is seen and driven through the
 * other (exec, pause, resume, resize; both at once, sharing its agent connection on the daemon), creates through both spread over the hosts; one replica is killed with SIGKILL and
 * the other serves on (the hosts stay alive: they still heartbeat to it), creating too.
 */
class ReplicasOnPostgresTest {
    private final ReplicaCalls calls = new ReplicaCalls();

    @TempDir
    Path dir;



    private String stdout(ReplicaProcess replica, String key, String id, String... argv) throws Exception {
        ReplicaCalls.Reply exec = calls.call("POST", replica.url() + "/v1/sandboxes/" + id + "/exec", key,
                Map.of("cmd", argv[0], "args", List.of(argv).subList(1, argv.length)));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
        return exec.data().get("result").get("stdout").asText();
    }

    private String status(ReplicaProcess replica, String key, String id) throws Exception {
        ReplicaCalls.Reply got = calls.call("GET", replica.url() + "/v1/sandboxes/" + id, key, null);
        assertThat(got.status()).as(got.toString()).isEqualTo(200);
        return got.data().get("status").asText();
    }


    @Test
    void aSandboxMadeThroughOneReplicaIsDrivenThroughTheOtherAndTheSurvivorServesOn() throws Exception {
        String databaseUrl = PostgresCluster.shared().newDatabase();
        String secretKey = ReplicaProcess.newSecretKey();
        Path tokenFile = dir.resolve("host.token");
        Files.writeString(tokenFile, "t-" + Ulid.next());
        HostPki pki = HostPki.open(dir.resolve("control-tls"));
        pki.issueHost("h1", List.of("127.0.0.1"), dir.resolve("h1-tls"));
        pki.issueHost("h2", List.of("127.0.0.1"), dir.resolve("h2-tls"));
        Path one = dir.resolve("machine-one");
        Path two = dir.resolve("machine-two");
        TestApi.linkKit(one);
        TestApi.linkKit(two);

        ReplicaProcess a = null;
        ReplicaProcess b = null;
        HostDaemonProcess h1 = null;
        HostDaemonProcess h2 = null;
        try {
            a = ReplicaProcess.start(dir.resolve("replica-a"), databaseUrl, secretKey, tokenFile,
                    dir.resolve("control-tls"));
            // The first replica made the bootstrap user in the shared database; the second finds it there.
            String key = Files.readAllLines(dir.resolve("replica-a").resolve("credentials.env")).stream()
                    .filter(l -> l.startsWith("CREATEOS_SANDBOX_API_KEY=")).findFirst().orElseThrow()
                    .substring("CREATEOS_SANDBOX_API_KEY=".length());
            b = ReplicaProcess.start(dir.resolve("replica-b"), databaseUrl, secretKey, tokenFile,
                    dir.resolve("control-tls"));
            assertThat(dir.resolve("replica-b").resolve("credentials.env")).doesNotExist();
            String both = a.url() + "," + b.url();
            h1 = HostDaemonProcess.start("h1", one, dir.resolve("h1-tls"), tokenFile, "zone=a", both);
            h2 = HostDaemonProcess.start("h2", two, dir.resolve("h2-tls"), tokenFile, "zone=b", both);
            calls.awaitHostsActive(a, key, 2);
            calls.awaitHostsActive(b, key, 2);

            // Made through A (with an env value, sealed by A's key), driven through B.
            ReplicaCalls.Reply first = calls.call("POST", a.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "first", "envs", Map.of("GREETING", "hello from a")));
            assertThat(first.status()).as(first.toString()).isEqualTo(200);
            String s1 = first.data().get("id").asText();
            assertThat(status(b, key, s1)).isEqualTo("running");
            assertThat(stdout(b, key, s1, "sh", "-c", "echo $GREETING; hostname")).isEqualTo("hello from a\nfirst\n");
            // Both replicas on one sandbox at once: they share its agent connection on the daemon, so B's calls do
            // not end the exec A has under way.
            ReplicaProcess viaA = a;
            var longExec = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return stdout(viaA, key, s1, "sh", "-c", "sleep 4; echo finished");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            for (int i = 0; i < 5; i++) {
                assertThat(stdout(b, key, s1, "echo", "b" + i)).isEqualTo("b" + i + "\n");
                Thread.sleep(300);
            }
            assertThat(longExec.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("finished\n");
            // A resize of a sandbox whose agent is relayed grows the guest's filesystem through the shared connection.
            long before = Long.parseLong(stdout(a, key, s1, "sh", "-c", "df -k --output=size / | tail -1").strip());
            ReplicaCalls.Reply grown = calls.call("POST", b.url() + "/v1/sandboxes/" + s1 + "/resize", key,
                    Map.of("disk_mib", 12288));
            assertThat(grown.status()).as(grown.toString()).isEqualTo(200);
            long after = Long.parseLong(stdout(a, key, s1, "sh", "-c", "df -k --output=size / | tail -1").strip());
            assertThat(after).as("the filesystem in KiB, %d before", before).isGreaterThan(before + 1024 * 1024);

            ReplicaCalls.Reply second = calls.call("POST", b.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "second"));
            assertThat(second.status()).as(second.toString()).isEqualTo(200);
            String s2 = second.data().get("id").asText();
            assertThat(stdout(a, key, s2, "hostname")).isEqualTo("second\n");
            JsonNode hosts = calls.call("GET", a.url() + "/v1/hosts", key, null).data().get("data");
            assertThat(hosts.findValuesAsText("vm_count")).as("one on each host: " + hosts)
                    .containsExactly("1", "1");

            ReplicaCalls.Reply paused = calls.call("POST", b.url() + "/v1/sandboxes/" + s1 + "/pause", key, Map.of());
            assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
            assertThat(status(a, key, s1)).isEqualTo("paused");
            ReplicaCalls.Reply resumed = calls.call("POST", a.url() + "/v1/sandboxes/" + s1 + "/resume", key, Map.of());
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            assertThat(stdout(b, key, s1, "echo", "resumed")).isEqualTo("resumed\n");

            // A is killed: B serves every sandbox and creates; the hosts stay active (they heartbeat to B too).
            a.kill();
            assertThat(stdout(b, key, s1, "hostname")).isEqualTo("first\n");
            assertThat(stdout(b, key, s2, "hostname")).isEqualTo("second\n");
            ReplicaCalls.Reply third = calls.call("POST", b.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "third"));
            assertThat(third.status()).as(third.toString()).isEqualTo(200);
            String s3 = third.data().get("id").asText();
            assertThat(stdout(b, key, s3, "hostname")).isEqualTo("third\n");
            Thread.sleep(5000); // past the dead-after window: the hosts are still heard (through B)
            calls.awaitHostsActive(b, key, 2);

            for (String id : List.of(s1, s2, s3)) {
                ReplicaCalls.Reply destroyed = calls.call("DELETE", b.url() + "/v1/sandboxes/" + id, key, null);
                assertThat(destroyed.status()).as(destroyed.toString()).isLessThan(300);
            }
        } finally {
            for (AutoCloseable process : new AutoCloseable[] {h1, h2, a, b}) {
                if (process != null) {
                    process.close();
                }
            }
            HostDaemonProcess.wipe(one);
            HostDaemonProcess.wipe(two);
        }
    }
}
