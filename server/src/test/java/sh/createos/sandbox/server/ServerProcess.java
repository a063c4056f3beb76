package sh.createos.sandbox.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ServerMain serve} in a child JVM on a data directory, so a test can kill it with SIGKILL at any moment
 * (no shutdown hook, no graceful stop) and start another on the same directory. Its output goes to
 * {@code server-<n>.log} in the data directory.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static int started;

    private final Process process;
    private final Path log;
    public final int port;
    public final String apiKey;

    private ServerProcess(Process process, Path log, int port, String apiKey) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.apiKey = apiKey;
    }

    /** Starts a server and returns once {@code /healthz} answers; the key is the bootstrap user's. */
    public static ServerProcess start(Path dataDir) throws Exception {
        return start(dataDir, List.of());
    }

    /** With options for the child JVM, e.g. a maximum heap. */
    public static ServerProcess start(Path dataDir, List<String> jvmOptions) throws Exception {
        return start(dataDir, jvmOptions, Map.of());
    }

    /**
     * With {@code serve} options that replace the test defaults, e.g. {@code --ssh-listen 127.0.0.1:PORT} for a
     * gateway (the defaults: no host network, an ephemeral ingress, no SSH gateway).
     */
    public static ServerProcess start(Path dataDir, List<String> jvmOptions, Map<String, String> serveOptions)
            throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path log = dataDir.resolve("server-" + (++started) + ".log");
        List<String> command = new java.util.ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                ServerMain.class.getName(), "serve", "--data-dir", dataDir.toString(), "--listen",
                "127.0.0.1:" + port));
        // Never the machine's shared host network ("csb") nor the default ingress port of a real serve.
        Map<String, String> serve = new LinkedHashMap<>(Map.of(
                "--network", "off", "--ingress-listen", "127.0.0.1:0", "--ssh-listen", "off"));
        serve.putAll(serveOptions);
        serve.forEach((k, v) -> command.addAll(List.of(k, v)));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("the server exited with " + process.exitValue() + ":\n"
                        + Files.readString(log));
            }
            try {
                HttpResponse<String> up = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (up.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("the server did not answer within " + START_TIMEOUT + ":\n"
                        + Files.readString(log));
            }
            Thread.sleep(100);
        }
        String key = Files.readAllLines(dataDir.resolve("credentials.env")).stream()
                .filter(l -> l.startsWith("CREATEOS_SANDBOX_API_KEY=")).findFirst().orElseThrow()
                .substring("CREATEOS_SANDBOX_API_KEY=".length());
        return new ServerProcess(process, log, port, key);
    }

    /** The lines of its log at WARN or above, or from the reconciliation and the snapshot operations. */
    public String logExcerpt() throws IOException {
        return String.join("\n", Files.readAllLines(log).stream()
                .filter(l -> l.matches(".*(WARN|ERROR|Reconciler|SandboxSnapshots|sh\\.createos\\.sandbox\\.host).*"))
                .toList());
    }

    public long pid() {
        return process.pid();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** SIGKILL: the JVM ends at once, whatever it was doing. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM and wait: the graceful stop. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
