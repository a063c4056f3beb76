package sh.createos.sandbox.sdk;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.host.BenchFigures;
import sh.createos.sandbox.server.TestApi;

/**
 * {@code bench/sdk.sh}: in one run against a real server and VM, the exec round trip of {@code true} through
 * {@link Sandbox#runCommand} beside a bare {@link HttpClient} POST of the same endpoint, and upload/download MiB/s
 * of one file through {@link SandboxFiles} beside {@code curl} of the same file.
 */
public final class SdkBenchmark {
    private SdkBenchmark() {}

    public static void main(String[] args) throws Exception {
        int execs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        Path dir = Files.createTempDirectory("sdk-bench");
        try (TestApi api = TestApi.start(dir, true);
                SandboxClient client = SandboxClient.builder(Map.of()).baseUrl("http://127.0.0.1:" + api.server.port())
                        .apiKey(api.aliceKey).timeout(Duration.ofMinutes(5)).build()) {
            Sandbox sb = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-512mb").diskMib(4096)
                    .build());
            String base = "http://127.0.0.1:" + api.server.port();
            HttpClient bare = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest exec = HttpRequest.newBuilder(URI.create(base + "/v1/sandboxes/" + sb.id() + "/exec"))
                    .header("X-Api-Key", api.aliceKey).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"cmd\":\"true\",\"args\":[]}")).build();
            List<Long> sdkNs = new ArrayList<>();
            List<Long> bareNs = new ArrayList<>();
            for (int i = 0; i < execs + 2; i++) { // the first two of each are warm-up
                long t0 = System.nanoTime();
                sb.runCommand("true");
                long t1 = System.nanoTime();
                HttpResponse<byte[]> r = bare.send(exec, HttpResponse.BodyHandlers.ofByteArray());
                long t2 = System.nanoTime();
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("bare exec: " + r.statusCode() + " " + new String(r.body()));
                }
                if (i >= 2) {
                    sdkNs.add(t1 - t0);
                    bareNs.add(t2 - t1);
                }
            }
            System.out.printf("exec round trip (true, %d runs): sdk median %.1f ms, bare HttpClient median %.1f ms%n",
                    execs, BenchFigures.median(sdkNs) / 1e6, BenchFigures.median(bareNs) / 1e6);

            Path file = dir.resolve("payload.bin");
            try (OutputStream out = Files.newOutputStream(file)) {
                InputStream in = new SdkEndToEndTest.PatternStream((long) mib << 20);
                in.transferTo(out);
            }
            String url = base + "/v1/sandboxes/" + sb.id() + "/files?path="
                    + URLEncoder.encode("/root/payload.bin", StandardCharsets.UTF_8);
            long t0 = System.nanoTime();
            sb.files().upload("/root/payload.bin", file);
            long t1 = System.nanoTime();
            try (InputStream in = sb.files().download("/root/payload.bin")) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            long t2 = System.nanoTime();
            curl("-T", file.toString(), "-X", "PUT", "-H", "Content-Type: application/octet-stream", "-H",
                    "X-Api-Key: " + api.aliceKey, "-o", "/dev/null", url);
            long t3 = System.nanoTime();
            curl("-H", "X-Api-Key: " + api.aliceKey, "-o", "/dev/null", url);
            long t4 = System.nanoTime();
            System.out.printf("%d MiB upload: sdk %.1f MiB/s, curl %.1f MiB/s; download: sdk %.1f MiB/s, curl %.1f "
                    + "MiB/s%n", mib, mib / ((t1 - t0) / 1e9), mib / ((t3 - t2) / 1e9), mib / ((t2 - t1) / 1e9),
                    mib / ((t4 - t3) / 1e9));
            System.out.println("load average: " + BenchFigures.loadAverage());
        }
    }

    private static void curl(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--fail"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("curl failed (" + p.exitValue() + "): " + out);
        }
    }
}
