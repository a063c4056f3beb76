package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Issue 18 item 5: a buffered exec whose client went away ran on for as long as its command did, and held off idle
 * auto-pause all that time. Now the guest command (its process tree) is killed when the client's connection closes,
 * and the sandbox pauses once it has been idle for its auto-pause period. Real VM.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class AbandonedExecTest {
    @TempDir
    Path dir;

    @Test
    void aBufferedExecWhoseClientLeftIsKilledAndNoLongerHoldsOffAutoPause() throws Exception {
        try (TestApi api = TestApi.start(dir, true, c -> c.withAutoPauseMinSeconds(2))) {
            Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                    "auto_pause_after_seconds", 6));
            assertThat(created.status()).as(created.toString()).isEqualTo(200);
            String id = created.data().get("id").asText();
            try (Socket client = new Socket("127.0.0.1", api.server.port())) {
                byte[] body = "{\"cmd\":\"sh\",\"args\":[\"-c\",\"echo $$ > /tmp/abandoned.pid; exec sleep 600\"]}"
                        .getBytes(StandardCharsets.UTF_8);
                OutputStream out = client.getOutputStream();
                out.write(("POST /v1/sandboxes/" + id + "/exec HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: "
                        + api.aliceKey + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                out.write(body);
                out.flush();
                assertThat(poll(api, id, "test -s /tmp/abandoned.pid && kill -0 $(cat /tmp/abandoned.pid) && echo alive",
                        "alive")).as("the buffered exec's command runs").isTrue();
            } // the client goes away without waiting for the answer
            assertThat(poll(api, id, "kill -0 $(cat /tmp/abandoned.pid) 2>/dev/null || echo gone", "gone"))
                    .as("the abandoned command was killed").isTrue();
            assertThat(sh(api, id, "ps -eo args").get("stdout").asText()).doesNotContain("sleep 600");
            // Nothing holds it busy now: it pauses after its 6 s of idleness (a minute for a loaded machine).
            String status = "running";
            for (int i = 0; i < 120 && !status.equals("paused"); i++) {
                Thread.sleep(500);
                status = api.get("/v1/sandboxes/" + id, api.aliceKey).data().get("status").asText();
            }
            assertThat(status).isEqualTo("paused");
            assertThat(api.delete("/v1/sandboxes/" + id, api.aliceKey).status()).isEqualTo(200);
        }
    }

    /** Runs {@code script} every 250 ms (for up to 30 s) until its stdout holds {@code expected}. */
    private static boolean poll(TestApi api, String id, String script, String expected) throws Exception {
        for (int i = 0; i < 120; i++) {
            if (sh(api, id, script).get("stdout").asText().contains(expected)) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    private static com.fasterxml.jackson.databind.JsonNode sh(TestApi api, String id, String script) throws Exception {
        Reply reply = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "sh", "args",
                List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("result");
    }
}
