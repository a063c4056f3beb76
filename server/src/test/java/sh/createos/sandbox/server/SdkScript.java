package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.disks.S3ProxyServer;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * The scripts in {@code src/test/sdk} that drive a server with the official TypeScript SDK from npm: {@link #install}
 * runs {@code npm ci} there once (under a file lock: the test command's lanes are separate JVMs, and a second
 * {@code npm ci} would empty {@code node_modules} under a script already running), {@link #run} runs one.
 */
public final class SdkScript {
    private static final Path DIR = Path.of("src/test/sdk").toAbsolutePath();

    /** Its exit code and everything it printed (also echoed to this test's output). */
    public record Result(int exitCode, String output) {}

    private SdkScript() {}

    /** {@code npm ci} unless the SDK is installed already; fails the test naming npm's output. */
    public static void install() throws Exception {
        // In target/, not beside the scripts: a file the tests write into the source tree changes setup's hash of it,
        // and a `serve` another lane starts then reinstalls the modules under the running suites.
        Path lock = Path.of("target", "sdk-npm-install.lock").toAbsolutePath();
        Files.createDirectories(lock.getParent());
        try (FileChannel lockFile = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            if (Files.isDirectory(DIR.resolve("node_modules/@nodeops-createos/sandbox"))) {
                return;
            }
            Result npm = run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
            assertThat(npm.exitCode()).as("npm ci failed (npm registry reachable?):\n%s", npm.output()).isZero();
        }
    }

    /**
     * {@code compat.mjs}'s environment: the server and key, as any SDK user sets them; the number of destroyed rows
     * stored for the user ({@link #storeDestroyedSandboxes}); the S3 server and bucket its disks use.
     */
    public static Map<String, String> compatEnvironment(String baseUrl, String apiKey, int destroyedRows,
            S3ProxyServer s3proxy, String bucket) {
        return Map.of("CREATEOS_SANDBOX_BASE_URL", baseUrl, "CREATEOS_SANDBOX_API_KEY", apiKey,
                "COMPAT_DESTROYED_ROWS", String.valueOf(destroyedRows),
                "COMPAT_S3_ENDPOINT", s3proxy.endpoint(), "COMPAT_S3_BUCKET", bucket,
                "COMPAT_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY, "COMPAT_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
    }

    /** {@code count} destroyed sandboxes of {@code user}: more than a 500-row page for compat.mjs to iterate. */
    public static void storeDestroyedSandboxes(Store store, User user, int count) {
        for (int i = 0; i < count; i++) {
            store.insertSandbox(new SandboxRecord("sb_" + Ulid.next(), user.id(), "old-" + i, SandboxStatus.DESTROYED,
                    "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, null, false, null, Map.of(), List.of(), List.of(),
                    SandboxService.DEFAULT_BANDWIDTH_QUOTA, 1L, Instant.now(), null, Instant.now(), null, user.email()));
        }
    }

    /** {@code argv} in {@code src/test/sdk} with {@code env} added, stdin empty; exit code -1 after the timeout. */
    public static Result run(List<String> argv, Map<String, String> env, int timeoutSeconds) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(argv).directory(DIR.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(env);
        Process process = builder.start();
        FutureTask<byte[]> output = new FutureTask<>(() -> process.getInputStream().readAllBytes());
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
