package sh.createos.sandbox.server;

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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * Issue 18 item 8: a control plane killed (kill -9) while a DELETE removed the sandbox's files left them behind,
 * and the next start neither finished nor noticed (a VM directory without its pid file looks like a boot in
 * progress). The kill comes at a test seam inside the destroy: the VMM is gone, its directory half removed (pid
 * file gone, disk overlay, sockets, logs still there). The next start finishes the destroy and sweeps the files.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DestroyKillTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void filesLeftByAKillDuringDeleteAreSweptByTheNextStart() throws Exception {
        TestApi.linkKit(dir);
        Path seamFile = dir.resolve("seam-reached");
        ServerProcess server = ServerProcess.start(dir, List.of("-Dcreateos.test.seam=vm-destroy-midway",
                "-Dcreateos.test.seam-file=" + seamFile));
        String id;
        Path vmDir;
        try {
            id = call(server, "POST", "/v1/sandboxes", "{\"shape\":\"s-1vcpu-512mb\"}").path("data").get("id").asText();
            vmDir = dir.resolve("vms").resolve(SandboxService.vmId(id));
            assertThat(vmDir.resolve("overlay.qcow2")).exists();
            assertThat(call(server, "DELETE", "/v1/sandboxes/" + id, null).path("data").get("status").asText())
                    .isEqualTo("destroying");
            for (int i = 0; i < 240 && !Files.exists(seamFile); i++) {
                Thread.sleep(250);
            }
            assertThat(seamFile).as("the destroy reached its seam; the server's log:\n%s", server.logExcerpt()).exists();
        } finally {
            server.kill();
        }
        // What the kill left: a half-removed directory, the sandbox still destroying.
        assertThat(vmDir.resolve("qemu.pid")).doesNotExist();
        assertThat(vmDir.resolve("overlay.qcow2")).exists();
        ServerProcess again = ServerProcess.start(dir);
        try {
            assertThat(call(again, "GET", "/v1/sandboxes/" + id, null).path("data").get("status").asText())
                    .isEqualTo("destroyed");
            assertThat(vmDir).as("the VM directory after the next start's reconcile").doesNotExist();
        } finally {
            again.close();
        }
    }

    private JsonNode call(ServerProcess server, String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(90))
                .header("X-Api-Key", server.apiKey).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isLessThan(300);
        return JSON.readTree(response.body());
    }
}
