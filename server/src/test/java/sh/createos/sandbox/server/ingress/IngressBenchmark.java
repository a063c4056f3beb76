package sh.createos.sandbox.server.ingress;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.Ipv4Cidr;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.TestApi;

/**
 * The ingress beside a direct connection to the guest's address, alternately in one run: the latency of a small
 * GET and the throughput of a large download, from the same client to the same node server in the guest
 * ({@code guest/ingress-test-server.js} on port 3000). The ingress reaches the guest through the agent's
 * {@code dial} (a fresh guest connection per request); the baseline goes over the sandbox's tap.
 * Usage: {@code IngressBenchmark [RUNS] [REQUESTS] [MIB]}; bench/ingress.sh runs it (as root: it needs the host
 * network for the baseline).
 */
public final class IngressBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int mib = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        Path shared = DataDir.fromEnvironment();
        Path dataDir = Files.createTempDirectory(shared.resolve("tmp"), "ib-"); // short: socket paths
        int k = ThreadLocalRandom.current().nextInt(16);
        NetworkConfig network = new NetworkConfig(dataDir.resolve("net"),
                "cb" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4),
                Ipv4Cidr.parse("10.252." + 16 * k + ".0/20"), Ipv4Cidr.parse("10.253." + 16 * k + ".0/20"),
                NetworkConfig.resolvConf(Path.of("/etc/resolv.conf")), 0, List.of(), "fc.local");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        try (TestApi api = TestApi.start(dataDir, true, c -> c.withNetwork(network))) {
            TestApi.Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                    "ingress_enabled", true));
            if (reply.status() != 200) {
                throw new IllegalStateException("creating the sandbox failed: " + reply);
            }
            JsonNode created = reply.data();
            String id = created.get("id").asText();
            byte[] script;
            try (InputStream in = IngressBenchmark.class.getResourceAsStream("/guest/ingress-test-server.js")) {
                script = in.readAllBytes();
            }
            api.send(TestApi.withKey(api.request("/v1/sandboxes/" + id + "/files?path=%2Froot%2Fsrv.js"),
                    api.aliceKey).PUT(HttpRequest.BodyPublishers.ofByteArray(script)).build());
            api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "bash", "args", List.of("-lc",
                    "nohup setsid node /root/srv.js >/tmp/srv.log 2>&1 & for i in $(seq 100); do "
                            + "(echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null && exit 0; sleep 0.2; done; exit 1")));
            String ingress = created.get("ingress_url_template").asText().replace("<port>", "3000");
            String direct = "http://" + created.get("ip").asText() + ":3000";
            System.out.printf("ingress %s, direct %s, %d runs of %d GETs and a %d MiB download, load average %s%n",
                    ingress, direct, runs, requests, mib, loadAverage());
            System.out.printf("%4s %18s %18s %20s %20s%n", "run", "direct_get_ms", "ingress_get_ms",
                    "direct_MiB_per_s", "ingress_MiB_per_s");
            List<Double> directGet = new ArrayList<>();
            List<Double> ingressGet = new ArrayList<>();
            List<Double> directRate = new ArrayList<>();
            List<Double> ingressRate = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                directGet.add(medianGetMillis(http, direct + "/hello", requests));
                ingressGet.add(medianGetMillis(http, ingress + "/hello", requests));
                directRate.add(downloadMibPerSecond(http, direct, mib));
                ingressRate.add(downloadMibPerSecond(http, ingress, mib));
                System.out.printf("%4d %18.2f %18.2f %20.1f %20.1f%n", run, directGet.getLast(), ingressGet.getLast(),
                        directRate.getLast(), ingressRate.getLast());
            }
            System.out.printf("median GET latency: direct %.2f ms, ingress %.2f ms (%.2f x)%n", medianOf(directGet),
                    medianOf(ingressGet), medianOf(ingressGet) / medianOf(directGet));
            System.out.printf("median download: direct %.1f MiB/s, ingress %.1f MiB/s (%.2f x)%n", medianOf(directRate),
                    medianOf(ingressRate), medianOf(ingressRate) / medianOf(directRate));
            System.out.printf("load average at the end: %s%n", loadAverage());
        } finally {
            HostNetwork.open(network).destroy();
            try (var paths = Files.walk(dataDir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static double medianGetMillis(HttpClient http, String url, int requests) throws Exception {
        List<Double> took = new ArrayList<>();
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build();
        for (int i = 0; i < requests; i++) {
            long started = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            took.add((System.nanoTime() - started) / 1e6);
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + url + " answered " + response.statusCode());
            }
        }
        return medianOf(took);
    }

    private static double downloadMibPerSecond(HttpClient http, String base, int mib) throws Exception {
        long bytes = (long) mib << 20;
        long started = System.nanoTime();
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(base + "/big/" + bytes))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        long got;
        try (InputStream body = response.body()) {
            got = body.transferTo(OutputStream.nullOutputStream());
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        if (got != bytes) {
            throw new IllegalStateException("download from " + base + " got " + got + " of " + bytes + " bytes");
        }
        return mib / seconds;
    }
}
