package sh.createos.sandbox.server;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.host.kit.DataDir;

/**
 * Managed-process output throughput beside a streamed exec's, alternately in one run on one sandbox: the same
 * command ({@code yes … | head -c N}, printable so neither side pays for escaping) is run as a managed process
 * followed with {@code connect?after=0} until its exit frame, and as {@code exec?stream=true} until its exit frame.
 * N stays below the 4 MiB ring, so the follower can never fall behind the retained window. Usage:
 * {@code ProcessBenchmark [RUNS] [MIB]}; bench/processes.sh runs it.
 */
public final class ProcessBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        if (mib >= 4) {
            throw new IllegalArgumentException("MIB must stay below the 4 MiB output ring");
        }
        long bytes = (long) mib << 20;
        String script = "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c " + bytes;
        Path shared = DataDir.fromEnvironment();
        Path dataDir = Files.createTempDirectory(shared.resolve("tmp"), "process-bench-");
        try (TestApi api = TestApi.start(dataDir, true)) {
            String id = api.post("/v1/sandboxes", api.aliceKey, TestApi.map("shape", "s-1vcpu-512mb")).data()
                    .get("id").asText();
            String base = "/v1/sandboxes/" + id;
            System.out.printf("%d MiB per run, %d runs, load average %s%n", mib, runs, loadAverage());
            System.out.printf("%4s %22s %22s%n", "run", "managed_MiB_per_s", "streamed_exec_MiB_per_s");
            List<Double> managed = new ArrayList<>();
            List<Double> exec = new ArrayList<>();
            for (int run = 0; run <= runs; run++) { // run 0 warms both paths up
                long started = System.nanoTime();
                JsonNode p = api.post(base + "/processes", api.aliceKey,
                        Map.of("cmd", "sh", "args", List.of("-c", script))).data();
                long got = followProcess(api, base, p.get("process_id").asText());
                double managedRate = rate(got, started, bytes);

                started = System.nanoTime();
                got = streamExec(api, base, script);
                double execRate = rate(got, started, bytes);
                System.out.printf("%4s %22.2f %22.2f%n", run == 0 ? "warm" : run, managedRate, execRate);
                if (run > 0) {
                    managed.add(managedRate);
                    exec.add(execRate);
                }
            }
            double m = medianOf(managed);
            double e = medianOf(exec);
            System.out.printf("median streamed exec output:       %8.2f MiB/s%n", e);
            System.out.printf("median managed-process output:     %8.2f MiB/s  (%.2f x)%n", m, m / e);
            System.out.printf("load average at the end: %s%n", loadAverage());
        } finally {
            try (var walk = Files.walk(dataDir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static double rate(long got, long started, long want) {
        if (got != want) {
            throw new IllegalStateException("received " + got + " bytes, want " + want);
        }
        return got / 1048576.0 / ((System.nanoTime() - started) / 1e9);
    }

    private static long followProcess(TestApi api, String base, String processId) throws Exception {
        HttpRequest request = TestApi.withKey(api.request(base + "/processes/" + processId + "/connect?after=0"),
                api.aliceKey).GET().build();
        long got = 0;
        for (JsonNode frame : lines(api, request)) {
            switch (frame.get("type").asText()) {
                case "data" -> got += Base64.getDecoder().decode(frame.get("data_base64").asText()).length;
                case "exit" -> {
                    return got;
                }
                case "error" -> throw new IllegalStateException("connect: " + frame);
                default -> { }
            }
        }
        throw new IllegalStateException("connect ended without an exit frame");
    }

    private static long streamExec(TestApi api, String base, String script) throws Exception {
        HttpRequest request = TestApi.withKey(api.request(base + "/exec?stream=true"), api.aliceKey)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                        Map.of("cmd", "sh", "args", List.of("-c", script))))).build();
        long got = 0;
        for (JsonNode frame : lines(api, request)) {
            if (frame.has("stdout")) {
                got += frame.get("stdout").asText().getBytes(StandardCharsets.UTF_8).length;
            } else if (frame.has("exit_code")) {
                return got;
            }
        }
        throw new IllegalStateException("the streamed exec ended without an exit frame");
    }

    /** The NDJSON lines of a response, read as they arrive. */
    private static Iterable<JsonNode> lines(TestApi api, HttpRequest request) throws Exception {
        HttpResponse<InputStream> response = api.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(request.uri() + " answered " + response.statusCode());
        }
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        return () -> reader.lines().map(line -> {
            try {
                return JSON.readTree(line);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).iterator();
    }
}
