package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.server.ServerMain;
import sh.createos.sandbox.server.secrets.SecretBox;

/**
 * One control-plane replica ({@code ServerMain serve}) in a child JVM: its own data directory, the shared
 * PostgreSQL database, secret key and host TLS files, no VMs of its own (host daemons register with it). A test can
 * SIGKILL it at any moment. Output goes to {@code replica.log} in its data directory.
 */
final class ReplicaProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private final Process process;
    final int port;
    final Path log;

    private ReplicaProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** A fresh value for the replicas' shared {@code SecretBox} key (32 random bytes, base64). */
    static String newSecretKey() {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        return java.util.Base64.getEncoder().encodeToString(secret);
    }

    static ReplicaProcess start(Path dataDir, String databaseUrl, String secretKey, Path tokenFile, Path tlsDir)
            throws Exception {
        return start(dataDir, databaseUrl, secretKey, tokenFile, tlsDir, "127.0.0.1", List.of());
    }

    /**
     * The same listening on {@code listenHost} ("0.0.0.0" lets host daemons in other network namespaces, see
     * {@link NetnsMachine}, heartbeat to it) and with {@code jvmOptions} (e.g. {@code -D…}); {@link #url} stays on
     * loopback.
     */
    static ReplicaProcess start(Path dataDir, String databaseUrl, String secretKey, Path tokenFile, Path tlsDir,
            String listenHost, List<String> jvmOptions) throws Exception {
        Files.createDirectories(dataDir);
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        return start(dataDir, databaseUrl, secretKey, tokenFile, tlsDir, listenHost, jvmOptions, port);
    }

    /** On {@code port}: a replica started again where a killed one listened, so the hosts' heartbeats reach it. */
    static ReplicaProcess start(Path dataDir, String databaseUrl, String secretKey, Path tokenFile, Path tlsDir,
            int port) throws Exception {
        return start(dataDir, databaseUrl, secretKey, tokenFile, tlsDir, "127.0.0.1", List.of(), port);
    }

    private static ReplicaProcess start(Path dataDir, String databaseUrl, String secretKey, Path tokenFile, Path tlsDir,
            String listenHost, List<String> jvmOptions, int port) throws Exception {
        Files.createDirectories(dataDir);
        Path log = dataDir.resolve("replica.log");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ServerMain.class.getName(), "serve",
                "--data-dir", dataDir.toString(), "--listen", listenHost + ":" + port, "--database-url", databaseUrl,
                "--host-token-file", tokenFile.toString(), "--host-tls-dir", tlsDir.toString(),
                "--host-dead-after-seconds", "4",
                "--network", "off", "--ingress-listen", "127.0.0.1:0", "--ssh-listen", "off"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put(SecretBox.ENV, secretKey);
        Process process = builder.start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("the replica exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return new ReplicaProcess(process, port, log);
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("the replica did not answer within " + START_TIMEOUT + ":\n"
                        + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** SIGKILL: the JVM ends at once, whatever it was doing. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** The end of its log, for failure messages. */
    String logExcerpt() throws IOException {
        String all = Files.readString(log);
        return all.length() <= 6000 ? all : all.substring(all.length() - 6000);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
