package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.disks.S3ProxyServer;
import software.amazon.awssdk.services.s3.S3Client;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.network.TestNetworks;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * The official TypeScript SDK ({@code @nodeops-createos/sandbox} from npm, unchanged) against the real server:
 * {@code src/test/sdk/compat.mjs} creates a real sandbox (with a host network of its own, as root) and exercises
 * every call the issue lists.
 */
class SdkCompatibilityTest {
    /** More than one 500-row page, so iterateSandboxes has to fetch a second page. */
    private static final int DESTROYED_ROWS = 503;
    private static final Path SDK_DIR = Path.of("src/test/sdk").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void theOfficialSdkDrivesTheServer() throws Exception {
        npm("ci", "--no-audit", "--no-fund");
        NetworkConfig network = TestNetworks.config(dir);
        // The disks' S3 server, as an outside host (198.18.232-247.0/24: the disks tests use 216-231).
        try (ExternalHost outside = ExternalHost.start(Map.of(), 232 + ThreadLocalRandom.current().nextInt(16));
             S3ProxyServer s3proxy = S3ProxyServer.start(outside.namespace(), outside.address(2), 9000, dir);
             S3Client s3 = s3proxy.client();
             TestApi api = TestApi.start(dir, true, c -> c.withNetwork(network))) {
            s3.createBucket(b -> b.bucket("compat"));
            for (int i = 0; i < DESTROYED_ROWS; i++) {
                api.server.store().insertSandbox(new SandboxRecord("sb_" + Ulid.next(), api.alice.id(), "old-" + i,
                        SandboxStatus.DESTROYED, "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, null, false, null,
                        Map.of(), List.of(), List.of(), SandboxService.DEFAULT_BANDWIDTH_QUOTA, 1L, Instant.now(), null,
                        Instant.now(), null, api.alice.email()));
            }
            Result result = run(List.of("node", "compat.mjs"), Map.of(
                    "CREATEOS_SANDBOX_BASE_URL", "http://127.0.0.1:" + api.server.port(),
                    "CREATEOS_SANDBOX_API_KEY", api.aliceKey,
                    "COMPAT_DESTROYED_ROWS", String.valueOf(DESTROYED_ROWS),
                    "COMPAT_S3_ENDPOINT", s3proxy.endpoint(), "COMPAT_S3_BUCKET", "compat",
                    "COMPAT_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY, "COMPAT_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY),
                    300);
            assertThat(result.exitCode()).as("node compat.mjs failed:\n%s", result.output()).isZero();
            assertThat(result.output()).contains("0 failed").doesNotContain("FAIL ");
        } finally {
            TestNetworks.destroy(network);
        }
    }

    private static void npm(String... args) throws Exception {
        if (Files.isDirectory(SDK_DIR.resolve("node_modules/@nodeops-createos/sandbox"))) {
            return;
        }
        List<String> argv = new java.util.ArrayList<>(List.of("npm"));
        argv.addAll(List.of(args));
        Result result = run(argv, Map.of(), 300);
        assertThat(result.exitCode()).as("%s failed (npm registry reachable?):\n%s", argv, result.output()).isZero();
    }

    private record Result(int exitCode, String output) {}

    private static Result run(List<String> argv, Map<String, String> env, int timeoutSeconds) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(argv).directory(SDK_DIR.toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        var output = new java.util.concurrent.FutureTask<>(() -> process.getInputStream().readAllBytes());
        Thread.ofVirtual().start(output);
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, "timed out after " + timeoutSeconds + " s: " + argv);
        }
        String text = new String(output.get(), StandardCharsets.UTF_8);
        System.out.println(text);
        return new Result(process.exitValue(), text);
    }

}
