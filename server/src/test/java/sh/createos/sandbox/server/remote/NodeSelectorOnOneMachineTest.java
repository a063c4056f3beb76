package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/** The embedded single machine has no labels: a create's non-empty {@code node_selector} cannot match (400, no row). */
class NodeSelectorOnOneMachineTest {
    @TempDir
    Path dir;

    @Test
    void aSelectorNoHostMatchesIsRefusedBeforeAnyRow() throws Exception {
        try (TestApi api = TestApi.start(dir, false)) {
            Reply refused = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                    "node_selector", Map.of("zone", "eu-1")));
            assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
            assertThat(refused.toString()).contains("no host has the labels").contains("zone");
            assertThat(api.get("/v1/sandboxes", api.aliceKey).data().get("data")).isEmpty();
            Reply hostRegistration = api.send(api.request("/v1/hosts/h1")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"address\":\"127.0.0.1:7070\"}")).build());
            assertThat(hostRegistration.status()).as("no registrations on the embedded default: "
                    + hostRegistration).isEqualTo(503);
        }
    }
}
