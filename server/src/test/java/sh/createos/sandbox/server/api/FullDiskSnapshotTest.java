package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Issue 18: a paused sandbox whose disk was full could never resume or fork ({@code configure: ENOSPC …
 * /etc/hostname}), and every fork try left a failed row. On a real VM: fill the disk, pause, resume, pause, fork.
 */
class FullDiskSnapshotTest {
    @TempDir
    static Path dir;

    @Test
    void aPausedSandboxWithAFullDiskResumesAndForks() throws Exception {
        try (TestApi api = TestApi.start(dir, true)) {
            // A disk just above the image, so that filling it is quick under emulation.
            long imageMib = java.nio.file.Files.size(sh.createos.sandbox.host.kit.GuestKit
                    .load(sh.createos.sandbox.host.kit.DataDir.fromEnvironment()).image("devbox:1")) >> 20;
            Reply created = api.post("/v1/sandboxes", api.aliceKey,
                    map("shape", "s-1vcpu-512mb", "disk_mib", (int) imageMib + 150));
            assertThat(created.status()).as(created.toString()).isEqualTo(200);
            String base = "/v1/sandboxes/" + created.data().get("id").asText();
            Reply fill = exec(api, base, "dd if=/dev/zero of=/root/fill bs=1M 2>/dev/null; sync;"
                    + " df --output=avail -B1 / | tail -1");
            assertThat(fill.data().get("result").get("stdout").asText().strip()).as(fill.toString()).isEqualTo("0");

            assertThat(api.post(base + "/pause", api.aliceKey, "{}").status()).isEqualTo(200);
            Reply resumed = api.post(base + "/resume", api.aliceKey, "{}");
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            assertThat(resumed.data().get("status").asText()).isEqualTo("running");
            assertThat(exec(api, base, "echo still here").data().get("result").get("stdout").asText())
                    .isEqualTo("still here\n");

            assertThat(api.post(base + "/pause", api.aliceKey, "{}").status()).isEqualTo(200);
            Reply fork = api.post(base + "/fork", api.aliceKey, "{}");
            assertThat(fork.status()).as(fork.toString()).isEqualTo(200);
            String child = "/v1/sandboxes/" + fork.data().get("id").asText();
            assertThat(exec(api, child, "hostname").data().get("result").get("stdout").asText().strip())
                    .isEqualTo(fork.data().get("name").asText());
            assertThat(api.get("/v1/sandboxes?status=failed", api.aliceKey).data().get("data")).isEmpty();
            api.delete(child, api.aliceKey);
            api.delete(base, api.aliceKey);
        }
    }

    private static Reply exec(TestApi api, String base, String script) throws Exception {
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", "bash", "args", List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply;
    }
}
