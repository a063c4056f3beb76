package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * {@code FROM} an image of an OCI registry, end to end with real parts: Debian's {@code docker-registry} on a loopback
 * port, an image made here with {@code umoci} (a static busybox, a marker file, an Env and a WorkingDir in its
 * config) and pushed with {@code skopeo}; the server pulls it on the host, builds on it in a builder VM and boots a
 * sandbox from the result.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OciBaseTemplateTest {

    @TempDir
    static Path dir;
    private Process registry;
    private String registryAddress;
    private String digest;
    private TestApi api;
    private JsonNode built;

    @BeforeAll
    void startRegistryPushImageAndBuild() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        registryAddress = "127.0.0.1:" + port;
        Path config = dir.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: %s
                """.formatted(dir.resolve("registry-storage"), registryAddress));
        registry = new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        registry.getOutputStream().close();
        awaitRegistry();

        Path layout = dir.resolve("layout");
        Path bundle = dir.resolve("bundle");
        run("umoci", "init", "--layout", layout.toString());
        run("umoci", "new", "--image", layout + ":1");
        run("umoci", "unpack", "--image", layout + ":1", bundle.toString());
        Path rootfs = bundle.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : run("/bin/busybox", "--list").split("\n")) {
            if (!applet.isBlank() && !applet.equals("busybox")) {
                Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet.strip()), Path.of("busybox"));
            }
        }
        Files.writeString(rootfs.resolve("marker"), "from the oci image\n");
        run("umoci", "repack", "--image", layout + ":1", bundle.toString());
        run("umoci", "config", "--image", layout + ":1", "--config.env", "GREETING=from-oci",
                "--config.env", "PATH=/bin", "--config.workingdir", "/work", "--config.cmd", "/bin/sh");
        run("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:" + layout + ":1",
                "docker://" + registryAddress + "/test/tiny:1");
        digest = run("skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                "docker://" + registryAddress + "/test/tiny:1").strip();

        System.setProperty("createos.templates.memory_mib", "512");
        System.setProperty("createos.templates.disk_mib", "256");
        System.setProperty("createos.templates.network", "false");
        System.setProperty("createos.templates.registries", "http://" + registryAddress);
        api = TestApi.start(dir.resolve("server"), true);
        built = awaitFinal(submit("tiny", "FROM " + registryAddress + "/test/tiny:1\n"
                + "ENV EXTRA=yes\n"
                + "RUN echo built > /built && echo \"greeting is $GREETING\"\n"));
    }

    @AfterAll
    void stop() throws Exception {
        if (api != null) {
            api.close();
        }
        if (registry != null) {
            registry.destroy();
            registry.waitFor(10, TimeUnit.SECONDS);
        }
        for (String p : List.of("memory_mib", "disk_mib", "network", "registries")) {
            System.clearProperty("createos.templates." + p);
        }
    }

    @Test
    @Order(1)
    void aRegistryImageBuildsWithItsConfigAsTheStartingState() throws Exception {
        assertThat(built.get("status").asText()).as(built.toString()).isEqualTo("ready");
        JsonNode config = built.get("image_config");
        assertThat(config.get("env").get("GREETING").asText()).isEqualTo("from-oci");
        assertThat(config.get("env").get("EXTRA").asText()).isEqualTo("yes");
        assertThat(config.get("workdir").asText()).isEqualTo("/work");
        assertThat(config.get("cmd").get(0).asText()).isEqualTo("/bin/sh");
        String log = TemplateBuilds.text(api, "/v1/templates/tiny/logs");
        assertThat(log).contains("pulling " + registryAddress + "/test/tiny@" + digest)
                .contains("greeting is from-oci");
    }

    @Test
    @Order(2)
    void aSandboxFromItSeesTheImagesFilesTheBuildsFileAndTheEnv() throws Exception {
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb", "rootfs", "tiny",
                "disk_mib", 1024));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        String sandbox = created.data().get("id").asText();
        Reply exec = api.post("/v1/sandboxes/" + sandbox + "/exec", api.aliceKey, map("cmd", "sh", "args",
                List.of("-c", "cat /marker /built; echo \"$GREETING $EXTRA\"; pwd")));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
        JsonNode result = exec.data().get("result");
        assertThat(result.get("exit_code").asInt()).as(result.toString()).isZero();
        assertThat(result.get("stdout").asText()).isEqualTo("from the oci image\nbuilt\nfrom-oci yes\n/work\n");
        // The image has no resize2fs, and its filesystem still grows from the image's room to the disk asked for.
        Reply df = api.post("/v1/sandboxes/" + sandbox + "/exec", api.aliceKey, map("cmd", "sh", "args",
                List.of("-c", "df -k / | tail -1")));
        String sizeKib = df.data().get("result").get("stdout").asText().trim().split("\\s+")[1];
        assertThat(Long.parseLong(sizeKib)).as(df.toString()).isGreaterThan(900L * 1024);
        api.delete("/v1/sandboxes/" + sandbox, api.aliceKey);
    }

    @Test
    @Order(3)
    void theSameDigestAgainUsesThePulledBase() throws Exception {
        JsonNode again = awaitFinal(submit("tiny-again", "FROM " + registryAddress + "/test/tiny@" + digest + "\n"
                + "RUN test -f /marker\n"));
        assertThat(again.get("status").asText()).as(again.toString()).isEqualTo("ready");
        assertThat(TemplateBuilds.text(api, "/v1/templates/tiny-again/logs")).contains("pulled before")
                .doesNotContain("pulling ");
    }

    @Test
    @Order(4)
    void aRegistryThatIsNotConfiguredIs400NamingTheLine() throws Exception {
        Reply reply = api.post("/v1/templates", api.aliceKey, map("name", "elsewhere", "dockerfile",
                "# from a registry the server does not allow\nFROM registry.example.com/team/app:2\nRUN true\n"));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(400);
        assertThat(reply.data().get("message").asText()).contains("line 2").contains("registry.example.com")
                .contains("not one that FROM may pull from").contains(registryAddress);
    }

    @Test
    @Order(5)
    void aFailedPullEndsFailedWithSkopeosStderrInTheLog() throws Exception {
        JsonNode failed = awaitFinal(submit("missing", "FROM " + registryAddress + "/test/missing:1\nRUN true\n"));
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("error").asText()).contains("line 1").contains("skopeo inspect")
                .contains("unknown");
        assertThat(TemplateBuilds.text(api, "/v1/templates/missing/logs")).contains("skopeo inspect")
                .contains("unknown");
    }

    private JsonNode awaitFinal(JsonNode submitted) throws Exception {
        return TemplateBuilds.awaitFinal(api, submitted.get("id").asText());
    }

    private JsonNode submit(String name, String dockerfile) throws Exception {
        Reply reply = api.post("/v1/templates", api.aliceKey, map("name", name, "dockerfile", dockerfile));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data();
    }

    private void awaitRegistry() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            assertThat(registry.isAlive()).as("docker-registry exited: %s",
                    Files.readString(dir.resolve("registry.log"))).isTrue();
            try {
                var reply = client.send(HttpRequest.newBuilder(URI.create("http://" + registryAddress + "/v2/"))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (reply.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            assertThat(System.nanoTime()).as("docker-registry answers on %s", registryAddress).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Runs a host tool of the test's setup; its output is read (never inherited: surefire owns our stdin). */
    private static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getOutputStream().close();
        FutureTask<byte[]> output = new FutureTask<>(() -> p.getInputStream().readAllBytes());
        Thread.ofVirtual().start(output);
        boolean ended = p.waitFor(2, TimeUnit.MINUTES);
        if (!ended) {
            p.destroyForcibly();
        }
        String text = new String(output.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        assertThat(ended && p.exitValue() == 0).as("%s:\n%s", String.join(" ", argv), text).isTrue();
        return text;
    }
}
