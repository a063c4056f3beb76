package sh.createos.sandbox.server.disks;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server for tests: S3Proxy (filesystem backend) as its own JVM, from the fat jar Maven copied to
 * {@code target/s3proxy}, inside a network namespace ({@code ip netns exec}) so sandboxes reach it as a host
 * "outside". One identity (access key and secret); {@link #client()} talks to it from the host.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "AKIDTESTDISKS";
    public static final String SECRET_KEY = "s3cr3t-test-disks-key";
    private final Process process;
    private final String endpoint;
    private final Path log;

    private S3ProxyServer(Process process, String endpoint, Path log) {
        this.process = process;
        this.endpoint = endpoint;
        this.log = log;
    }

    /** Listens on {@code address:port} inside {@code namespace}; objects live below {@code dir}. */
    public static S3ProxyServer start(String namespace, String address, int port, Path dir) throws Exception {
        // Tests run in the server module, benchmarks from the repository root.
        Path jar = Path.of("target", "s3proxy", "s3proxy.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            jar = Path.of("server", "target", "s3proxy", "s3proxy.jar").toAbsolutePath();
        }
        if (!Files.exists(jar)) {
            throw new AssertionError("no " + jar + ": the server module's generate-test-resources copies it");
        }
        Path data = Files.createDirectories(dir.resolve("s3-data"));
        Path properties = dir.resolve("s3proxy.properties");
        String endpoint = "http://" + address + ":" + port;
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=" + endpoint,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data) + "\n");
        Path log = dir.resolve("s3proxy.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(List.of("ip", "netns", "exec", namespace, java, "-Xmx256m",
                "-jar", jar.toString(), "--properties", properties.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        S3ProxyServer server = new S3ProxyServer(process, endpoint, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket(address, port)) {
                return server;
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    server.close();
                    throw new AssertionError("S3Proxy did not start at " + endpoint + ": " + Files.readString(log));
                }
                Thread.sleep(200);
            }
        }
    }

    public String endpoint() {
        return endpoint;
    }

    /** A path-style client with the server's identity; checksums only where S3 requires them. */
    public S3Client client() {
        return S3Client.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY,
                        SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .build();
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
