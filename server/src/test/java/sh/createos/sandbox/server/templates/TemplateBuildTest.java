package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.SdkScript;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Template builds in real builder microVMs, sharing three builds made once: a template with files, ENV and
 * WORKDIR; the same name rebuilt with its last step changed (which must reuse the cached steps); and a build whose
 * RUN fails. Then sandboxes from the result, ownership, the followed log, deletion under a paused sandbox, and the
 * official TypeScript SDK driving one more build end to end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TemplateBuildTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FIRST = """
            FROM devbox:1
            # files, env and cwd for the sandboxes made from it
            ENV GREETING="hello from the template"
            WORKDIR /srv/app
            RUN echo built > marker && \\
                echo "step one output"
            RUN mkdir -p /opt/tool && echo 42 > /opt/tool/answer
            """;
    private static final String SECOND = FIRST.replace("echo 42", "echo 43");

    @TempDir
    static Path dir;
    private TestApi api;
    private JsonNode first;
    private JsonNode second;
    private JsonNode failed;
    private String sandbox;

    @BeforeAll
    void buildTemplates() throws Exception {
        System.setProperty("createos.templates.memory_mib", "512");
        System.setProperty("createos.templates.disk_mib", "512");
        System.setProperty("createos.templates.network", "false");
        api = TestApi.start(dir, true);
        first = awaitFinal(submit("app", FIRST));
        failed = awaitFinal(submit("broken", "FROM nodeops/sandbox:debian\nRUN echo about to fail; exit 3\n"));
        second = awaitFinal(submit("app", SECOND));
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        System.clearProperty("createos.templates.memory_mib");
        System.clearProperty("createos.templates.disk_mib");
        System.clearProperty("createos.templates.network");
    }

    @Test
    @Order(1)
    void aBuildEndsReadyWithItsSizeAndVersion() {
        assertThat(first.get("status").asText()).as(first.toString()).isEqualTo("ready");
        assertThat(first.get("version").asInt()).isEqualTo(1);
        assertThat(first.get("ext4_size_bytes").asLong()).isPositive();
        assertThat(first.has("built_at")).isTrue();
        assertThat(first.has("dockerfile")).isFalse();
        assertThat(second.get("status").asText()).as(second.toString()).isEqualTo("ready");
        assertThat(second.get("version").asInt()).isEqualTo(2);
        assertThat(second.get("image_config").get("workdir").asText()).isEqualTo("/srv/app");
    }

    @Test
    @Order(2)
    void aSandboxFromTheTemplateSeesItsFilesEnvAndCwd() throws Exception {
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "rootfs", "app"));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        sandbox = created.data().get("id").asText();
        // The name resolves to the newest version: the rebuilt one.
        assertThat(sh(sandbox, "pwd; cat marker; echo \"$GREETING\"; cat /opt/tool/answer"))
                .isEqualTo("/srv/app\nbuilt\nhello from the template\n43\n");
        assertThat(api.get("/v1/sandboxes/" + sandbox, api.aliceKey).data().get("rootfs").asText())
                .isEqualTo(second.get("id").asText());
        // The first version, by id, still has its own content.
        Reply byId = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                "rootfs", first.get("id").asText()));
        assertThat(byId.status()).as(byId.toString()).isEqualTo(200);
        String other = byId.data().get("id").asText();
        assertThat(sh(other, "cat /opt/tool/answer")).isEqualTo("42\n");
        api.delete("/v1/sandboxes/" + other, api.aliceKey);
    }

    @Test
    @Order(3)
    void aFailingRunEndsFailedWithItsExitCodeAndOutputInTheLog() throws Exception {
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("error").asText()).contains("line 2").contains("exited with code 3")
                .contains("about to fail");
        String log = TemplateBuilds.text(api, "/v1/templates/broken/logs");
        assertThat(log).contains("about to fail").contains("exited with code 3");
        Reply create = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "rootfs", "broken"));
        assertThat(create.status()).isEqualTo(400);
        assertThat(create.data().get("message").asText()).contains("template broken is not ready (status failed)");
    }

    @Test
    @Order(4)
    void aRebuildWithItsLastStepChangedReusesTheCachedSteps() throws Exception {
        String firstLog = TemplateBuilds.text(api, "/v1/templates/" + first.get("id").asText() + "/logs");
        String secondLog = TemplateBuilds.text(api, "/v1/templates/" + second.get("id").asText() + "/logs?attempt=1");
        assertThat(firstLog).doesNotContain("[CACHED]").contains("step one output");
        assertThat(secondLog).contains("using cached state after step 3/4 (line 5)")
                .containsPattern("Step 3/4 : RUN .*echo built > marker.*  \\[CACHED\\]")
                .containsPattern("Step 4/4 : RUN .*echo 43")
                .doesNotContainPattern("(?m)^step one output$"); // the cached RUN did not run again
        assertThat(firstLog).containsPattern("(?m)^step one output$");
        assertThat(api.get("/v1/templates/" + second.get("id").asText() + "/logs?attempt=2", api.aliceKey).status())
                .isEqualTo(404);
    }

    @Test
    @Order(5)
    void aSyntaxErrorIs400NamingTheLine() throws Exception {
        Reply reply = api.post("/v1/templates", api.aliceKey, map("name", "bad", "dockerfile",
                "FROM devbox:1\nRUN true\nCOPY . /app\n"));
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.data().get("message").asText()).contains("line 3").contains("COPY is not supported");
        Reply base = api.post("/v1/templates", api.aliceKey, map("name", "bad", "dockerfile", "FROM ubuntu:22.04\n"));
        assertThat(base.status()).isEqualTo(400);
        assertThat(base.data().get("message").asText()).contains("line 1").contains("not an allowed base");
        Reply name = api.post("/v1/templates", api.aliceKey, map("name", "Bad_Name", "dockerfile", "FROM devbox:1\n"));
        assertThat(name.status()).isEqualTo(400);
        assertThat(api.get("/v1/templates/bad", api.aliceKey).status()).isEqualTo(404);
    }

    @Test
    @Order(6)
    void templatesBelongToTheirUser() throws Exception {
        assertThat(api.get("/v1/templates/app", api.bobKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/templates/" + first.get("id").asText(), api.bobKey).status()).isEqualTo(404);
        assertThat(api.delete("/v1/templates/app", api.bobKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/templates", api.bobKey).data().get("data")).isEmpty();
        Reply bobCreate = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "rootfs", "app"));
        assertThat(bobCreate.status()).isEqualTo(400);
        // FROM another user's template is no base either.
        Reply bobBuild = api.post("/v1/templates", api.bobKey, map("name", "mine", "dockerfile", "FROM app\n"));
        assertThat(bobBuild.status()).isEqualTo(400);

        List<String> aliceRootfs = names(api.get("/v1/rootfs", api.aliceKey).data());
        assertThat(aliceRootfs).contains("devbox:1", "app").doesNotContain("broken");
        assertThat(names(api.get("/v1/rootfs", null).data())).contains("devbox:1").doesNotContain("app");
        assertThat(names(api.get("/v1/rootfs", api.bobKey).data())).doesNotContain("app");
        JsonNode list = api.get("/v1/templates", api.aliceKey).data();
        assertThat(list.get("pagination").get("total").asInt()).isEqualTo(3);
        assertThat(api.get("/v1/templates/app?include=dockerfile", api.aliceKey).data().get("dockerfile").asText())
                .isEqualTo(SECOND);
    }

    @Test
    @Order(7)
    void theFollowedLogReplaysAFinishedBuildThenTheFinalFrame() throws Exception {
        HttpResponse<String> reply = api.client().send(TestApi.withKey(
                api.request("/v1/templates/app/logs?follow=true"), api.aliceKey).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reply.statusCode()).isEqualTo(200);
        assertThat(reply.headers().firstValue("Content-Type").orElse("")).contains("ndjson");
        String[] lines = reply.body().split("\n");
        JsonNode firstFrame = JSON.readTree(lines[0]);
        assertThat(firstFrame.get("attempt").asInt()).isEqualTo(1);
        assertThat(firstFrame.get("level").asText()).isEqualTo("info");
        assertThat(firstFrame.has("ts")).isTrue();
        assertThat(firstFrame.get("line").asText()).startsWith("FROM devbox:1");
        JsonNode last = JSON.readTree(lines[lines.length - 1]);
        assertThat(last.get("final").asBoolean()).isTrue();
        assertThat(last.get("status").asText()).isEqualTo("ready");
        assertThat(last.has("line")).isFalse();
    }

    @Test
    @Order(8)
    void deletingTheTemplateKeepsItsPausedSandboxWorking() throws Exception {
        Reply paused = api.post("/v1/sandboxes/" + sandbox + "/pause", api.aliceKey, map());
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        awaitStatus(sandbox, "paused");
        assertThat(api.delete("/v1/templates/" + second.get("id").asText(), api.aliceKey).status()).isEqualTo(200);
        assertThat(api.delete("/v1/templates/" + first.get("id").asText(), api.aliceKey).status()).isEqualTo(200);
        assertThat(api.get("/v1/templates/app", api.aliceKey).status()).isEqualTo(404);
        Reply create = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "rootfs", "app"));
        assertThat(create.status()).as(create.toString()).isEqualTo(404);
        Reply resumed = api.post("/v1/sandboxes/" + sandbox + "/resume", api.aliceKey, map());
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        awaitStatus(sandbox, "running");
        assertThat(sh(sandbox, "cat /opt/tool/answer; pwd")).isEqualTo("43\n/srv/app\n");
        // The image file stays while the sandbox's disk rests on it, and goes once nothing does.
        Path image = dir.resolve("built-images/" + second.get("id").asText() + ".qcow2");
        assertThat(image).exists();
        api.delete("/v1/sandboxes/" + sandbox, api.aliceKey);
        awaitStatus(sandbox, "destroyed");
    }

    @Test
    @Order(9)
    void theOfficialTypeScriptSdkDrivesABuild() throws Exception {
        SdkScript.install();
        SdkScript.Result result = SdkScript.run(List.of("node", "templates.mjs"), Map.of(
                "CREATEOS_SANDBOX_BASE_URL", "http://127.0.0.1:" + api.server.port(),
                "CREATEOS_SANDBOX_API_KEY", api.aliceKey, "COMPAT_TEMPLATE_NAME", "from-sdk"), 900);
        assertThat(result.exitCode()).as("node templates.mjs:\n%s", result.output()).isZero();
        String text = result.output();
        assertThat(text).contains("7 passed, 0 failed");
    }

    @Test
    @Order(10)
    void retiredImagesGoOnceNothingRestsOnThem() {
        // The SDK's delete swept retired images: the sandboxes of "app" are destroyed, so its images are gone.
        assertThat(dir.resolve("built-images/" + second.get("id").asText() + ".qcow2")).doesNotExist();
        assertThat(dir.resolve("built-images/" + first.get("id").asText() + ".qcow2")).doesNotExist();
    }

    // --- helpers ---

    private JsonNode awaitFinal(JsonNode submitted) throws Exception {
        return TemplateBuilds.awaitFinal(api, submitted.get("id").asText());
    }

    private JsonNode submit(String name, String dockerfile) throws Exception {
        Reply reply = api.post("/v1/templates", api.aliceKey, map("name", name, "dockerfile", dockerfile));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        assertThat(reply.data().get("status").asText()).isIn("pending", "building");
        assertThat(reply.data().get("ext4_size_bytes").asLong()).isZero();
        assertThat(reply.data().has("built_at")).isFalse();
        return reply.data();
    }

    private void awaitStatus(String id, String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!api.get("/v1/sandboxes/" + id, api.aliceKey).data().get("status").asText().equals(status)) {
            assertThat(System.nanoTime()).as("sandbox %s reaches %s", id, status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private String sh(String id, String script) throws Exception {
        Reply reply = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "sh", "args",
                List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        JsonNode result = reply.data().get("result");
        assertThat(result.get("exit_code").asInt()).as(result.toString()).isZero();
        return result.get("stdout").asText();
    }

    private static List<String> names(JsonNode rootfs) {
        List<String> names = new ArrayList<>();
        rootfs.get("rootfs").forEach(n -> names.add(n.asText()));
        return names;
    }
}
