package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * A build's limits, with small settings on a real server and real builder VMs: one build at a time (the second
 * waits {@code pending} while the first runs), a 20 s time limit that a {@code RUN sleep 600} reaches, and a size
 * limit of 64 MiB beyond the base that a {@code RUN} allocating 1 GiB passes (with the default 4 GiB it would fit).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TemplateLimitsTest {
    private static final List<String> SETTINGS = List.of("builds", "timeout_seconds", "disk_mib", "memory_mib",
            "network");

    @TempDir
    static Path dir;
    private TestApi api;
    private JsonNode slow;
    private JsonNode large;
    private String queuedWhileFirstRan;

    @BeforeAll
    void buildBoth() throws Exception {
        System.setProperty("createos.templates.builds", "1");
        System.setProperty("createos.templates.timeout_seconds", "20");
        System.setProperty("createos.templates.disk_mib", "64");
        System.setProperty("createos.templates.memory_mib", "512");
        System.setProperty("createos.templates.network", "false");
        api = TestApi.start(dir, true);
        String first = submit("slow", "FROM devbox:1\nRUN echo started; sleep 600\n");
        String second = submit("large", "FROM devbox:1\nRUN fallocate -l 1G /fill\n");
        long deadline = System.nanoTime() + TemplateBuilds.BUILD_BUDGET.toNanos();
        while (!status(first).equals("building")) {
            assertThat(System.nanoTime()).as("the first build starts").isLessThan(deadline);
            Thread.sleep(100);
        }
        queuedWhileFirstRan = status(second);
        slow = TemplateBuilds.awaitFinal(api, first);
        large = TemplateBuilds.awaitFinal(api, second);
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        SETTINGS.forEach(s -> System.clearProperty("createos.templates." + s));
    }

    @Test
    void buildsBeyondTheLimitWaitPendingWhileOneRuns() {
        assertThat(queuedWhileFirstRan).isEqualTo("pending");
    }

    @Test
    void aRunPastTheTimeLimitEndsFailedNamingIt() {
        assertThat(slow.get("status").asText()).as(slow.toString()).isEqualTo("failed");
        assertThat(slow.get("error").asText()).contains("line 2").contains("time limit of 20 s")
                .contains("started");
    }

    @Test
    void aRunWritingPastTheSizeLimitEndsFailedNamingIt() {
        assertThat(large.get("status").asText()).as(large.toString()).isEqualTo("failed");
        assertThat(large.get("error").asText()).contains("line 2").contains("No space left on device")
                .contains("size limit is 64 MiB beyond its base (setting disk_mib)");
    }

    private String submit(String name, String dockerfile) throws Exception {
        Reply reply = api.post("/v1/templates", api.aliceKey, map("name", name, "dockerfile", dockerfile));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("id").asText();
    }

    private String status(String id) throws Exception {
        return api.get("/v1/templates/" + id, api.aliceKey).data().get("status").asText();
    }

}
