package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The multi-host tests' calls to a replica's API: JSend replies as they came, and waiting until hosts are active. */
final class ReplicaCalls {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration HOSTS_ACTIVE = Duration.ofSeconds(90);
    private final HttpClient http = HttpClient.newHttpClient();

    record Reply(int status, JsonNode body) {
        JsonNode data() {
            return body.get("data");
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    Reply call(String method, String url, String key, Object body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("X-Api-Key", key).header("Content-Type", "application/json");
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Reply(response.statusCode(), response.body().length == 0 ? null : JSON.readTree(response.body()));
    }

    /** The hosts {@code GET /v1/hosts} lists. */
    JsonNode hosts(ReplicaProcess replica, String key) throws Exception {
        Reply hosts = call("GET", replica.url() + "/v1/hosts", key, null);
        assertThat(hosts.status()).as(hosts.toString()).isEqualTo(200);
        return hosts.data().get("data");
    }

    /** Waits until {@code count} hosts are active on {@code replica} (their heartbeats reached it). */
    void awaitHostsActive(ReplicaProcess replica, String key, int count) throws Exception {
        long deadline = System.nanoTime() + HOSTS_ACTIVE.toNanos();
        while (true) {
            JsonNode hosts = hosts(replica, key);
            long active = 0;
            for (JsonNode host : hosts) {
                active += host.get("status").asText().equals("active") ? 1 : 0;
            }
            if (active == count) {
                return;
            }
            assertThat(System.nanoTime()).as("%d hosts active on %s: %s", count, replica.url(), hosts).isLessThan(deadline);
            Thread.sleep(250);
        }
    }
}
