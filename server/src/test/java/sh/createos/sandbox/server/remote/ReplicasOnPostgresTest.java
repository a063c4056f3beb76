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
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
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
 * other (exec, pause, resume), creates through both spread over the hosts; one replica is killed with SIGKILL and
 * the other serves on (the hosts stay alive: they still heartbeat to it), creating too.
 */
class ReplicasOnPostgresTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private record Reply(int status, JsonNode body) {
        JsonNode data() {
            return body.get("data");
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    private Reply call(String method, String url, String key, Object body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("X-Api-Key", key).header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(response.statusCode(), response.body().length == 0 ? null : JSON.readTree(response.body()));
    }

    private String stdout(ReplicaProcess replica, String key, String id, String... argv) throws Exception {
        Reply exec = call("POST", replica.url() + "/v1/sandboxes/" + id + "/exec", key,
                Map.of("cmd", argv[0], "args", List.of(argv).subList(1, argv.length)));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
        return exec.data().get("result").get("stdout").asText();
    }

    private String status(ReplicaProcess replica, String key, String id) throws Exception {
        Reply got = call("GET", replica.url() + "/v1/sandboxes/" + id, key, null);
        assertThat(got.status()).as(got.toString()).isEqualTo(200);
        return got.data().get("status").asText();
    }

    private void awaitBothHostsActive(ReplicaProcess replica, String key) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            JsonNode hosts = call("GET", replica.url() + "/v1/hosts", key, null).data().get("data");
            long active = 0;
            for (JsonNode host : hosts) {
                active += host.get("status").asText().equals("active") ? 1 : 0;
            }
            if (active == 2) {
                return;
            }
            assertThat(System.nanoTime()).as("both hosts active on " + replica.url() + ": " + hosts)
                    .isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    @Test
    void aSandboxMadeThroughOneReplicaIsDrivenThroughTheOtherAndTheSurvivorServesOn() throws Exception {
        String databaseUrl = PostgresCluster.shared().newDatabase();
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String secretKey = Base64.getEncoder().encodeToString(secret);
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
            awaitBothHostsActive(a, key);
            awaitBothHostsActive(b, key);

            // Made through A (with an env value, sealed by A's key), driven through B.
            Reply first = call("POST", a.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "first", "envs", Map.of("GREETING", "hello from a")));
            assertThat(first.status()).as(first.toString()).isEqualTo(200);
            String s1 = first.data().get("id").asText();
            assertThat(status(b, key, s1)).isEqualTo("running");
            assertThat(stdout(b, key, s1, "sh", "-c", "echo $GREETING; hostname")).isEqualTo("hello from a\nfirst\n");

            Reply second = call("POST", b.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "second"));
            assertThat(second.status()).as(second.toString()).isEqualTo(200);
            String s2 = second.data().get("id").asText();
            assertThat(stdout(a, key, s2, "hostname")).isEqualTo("second\n");
            JsonNode hosts = call("GET", a.url() + "/v1/hosts", key, null).data().get("data");
            assertThat(hosts.findValuesAsText("vm_count")).as("one on each host: " + hosts)
                    .containsExactly("1", "1");

            Reply paused = call("POST", b.url() + "/v1/sandboxes/" + s1 + "/pause", key, Map.of());
            assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
            assertThat(status(a, key, s1)).isEqualTo("paused");
            Reply resumed = call("POST", a.url() + "/v1/sandboxes/" + s1 + "/resume", key, Map.of());
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            assertThat(stdout(b, key, s1, "echo", "resumed")).isEqualTo("resumed\n");

            // A is killed: B serves every sandbox and creates; the hosts stay active (they heartbeat to B too).
            a.kill();
            assertThat(stdout(b, key, s1, "hostname")).isEqualTo("first\n");
            assertThat(stdout(b, key, s2, "hostname")).isEqualTo("second\n");
            Reply third = call("POST", b.url() + "/v1/sandboxes", key, Map.of("shape", "s-1vcpu-256mb",
                    "name", "third"));
            assertThat(third.status()).as(third.toString()).isEqualTo(200);
            String s3 = third.data().get("id").asText();
            assertThat(stdout(b, key, s3, "hostname")).isEqualTo("third\n");
            Thread.sleep(5000); // past the dead-after window: the hosts are still heard (through B)
            awaitBothHostsActive(b, key);

            for (String id : List.of(s1, s2, s3)) {
                Reply destroyed = call("DELETE", b.url() + "/v1/sandboxes/" + id, key, null);
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
