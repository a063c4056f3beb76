package sh.createos.sandbox.server;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.median;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;

/**
 * What the control plane adds on top of the engine, measured alternately in one run so both sides see the same
 * machine load: create-to-first-exec-output through the REST API beside the engine's own boot to agent ready, and the
 * round trip of a trivial exec through the API beside the same exec sent straight to the agent.
 * Usage: {@code ApiBenchmark [RUNS] [EXECS]}; bench/api.sh runs it.
 */
public final class ApiBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SHAPE = "s-1vcpu-512mb";

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int execs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path shared = DataDir.fromEnvironment();
        GuestKit kit = GuestKit.load(shared);
        QemuVmm vmm = new QemuVmm(shared, kit, Accelerator.detect(), Duration.ofSeconds(180));
        int diskMib = (int) ((Files.size(kit.image("devbox:1")) >> 20) + 64);
        String prefix = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4) + "-";
        Path dataDir = Files.createTempDirectory(shared.resolve("tmp"), "api-bench-");

        try (TestApi api = TestApi.start(dataDir, true)) {
            System.out.printf("accelerator %s, shape %s, %d runs, %d execs per run, load average %s%n",
                    Accelerator.detect(), SHAPE, runs, execs, loadAverage());
            System.out.printf("%4s %20s %24s %16s %18s  %s%n", "run", "engine_boot_ms", "api_create_to_output_ms",
                    "agent_exec_ms", "api_exec_ms", "engine_start");
            List<Long> engineBoot = new ArrayList<>();
            List<Long> apiFirstOutput = new ArrayList<>();
            List<Double> agentExec = new ArrayList<>();
            List<Double> apiExec = new ArrayList<>();
            // Run 0 is a warm-up, not counted: the first create of a shape builds its template on each side.
            for (int run = 0; run <= runs; run++) {
                long started = System.nanoTime();
                Vm vm = vmm.boot(new VmSpec(prefix + run, "devbox:1", 1, 512, diskMib, prefix + run));
                long bootMs = millisSince(started);
                String startKind = vm.start().kind().toString().toLowerCase(java.util.Locale.ROOT);
                double agentMs = medianMillis(execs, () -> timeAgentExec(vm));
                vm.destroy();

                started = System.nanoTime();
                String id = api.post("/v1/sandboxes", api.aliceKey, TestApi.map("shape", SHAPE)).data().get("id").asText();
                firstStreamedOutput(api, id);
                long apiMs = millisSince(started);
                double apiExecMs = medianMillis(execs, () -> timeApiExec(api, id));
                api.delete("/v1/sandboxes/" + id, api.aliceKey);

                System.out.printf("%4s %20d %24d %16.1f %18.1f  %s%n", run == 0 ? "warm" : run, bootMs, apiMs, agentMs,
                        apiExecMs, startKind);
                if (run > 0) {
                    engineBoot.add(bootMs);
                    apiFirstOutput.add(apiMs);
                    agentExec.add(agentMs);
                    apiExec.add(apiExecMs);
                }
            }
            long boot = median(engineBoot);
            long create = median(apiFirstOutput);
            double agent = medianOf(agentExec);
            double exec = medianOf(apiExec);
            System.out.printf("median engine create to agent ready:            %6d ms%n", boot);
            System.out.printf("median API create to first exec output:         %6d ms  (%.2f x)%n", create, (double) create / boot);
            System.out.printf("median exec round trip straight to the agent:   %8.1f ms%n", agent);
            System.out.printf("median exec round trip through the API:         %8.1f ms  (%.2f x)%n", exec, exec / agent);
            System.out.printf("load average at the end: %s%n", loadAverage());
        } finally {
            deleteTree(dataDir);
        }
    }

    /** Runs {@code true} through the agent and returns the nanoseconds it took. */
    private static long timeAgentExec(Vm vm) {
        try {
            long started = System.nanoTime();
            ExecResult result = vm.agent().run(ExecRequest.of("true"));
            long took = System.nanoTime() - started;
            check(result.exitCode() == 0, "agent exec of true exited " + result.exitCode());
            return took;
        } catch (Exception e) {
            throw new IllegalStateException("agent exec failed", e);
        }
    }

    /** Runs {@code true} through the buffered exec endpoint and returns the nanoseconds it took. */
    private static long timeApiExec(TestApi api, String id) {
        try {
            long started = System.nanoTime();
            TestApi.Reply reply = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, TestApi.map("cmd", "true"));
            long took = System.nanoTime() - started;
            check(reply.status() == 200 && reply.data().path("result").path("exit_code").asInt(-1) == 0, "API exec of true: " + reply);
            return took;
        } catch (Exception e) {
            throw new IllegalStateException("API exec failed", e);
        }
    }

    /** Streams {@code echo ready} and returns once its first stdout line arrives. */
    private static void firstStreamedOutput(TestApi api, String id) throws Exception {
        HttpRequest request = TestApi.withKey(api.request("/v1/sandboxes/" + id + "/exec?stream=true"), api.aliceKey)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"cmd\":\"echo\",\"args\":[\"ready\"]}")).build();
        HttpResponse<InputStream> response = api.client().send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            check(response.statusCode() == 200, "streamed exec answered " + response.statusCode());
            for (String line; (line = lines.readLine()) != null; ) {
                JsonNode frame = JSON.readTree(line);
                if (frame.has("stdout")) {
                    check(frame.get("stdout").asText().startsWith("ready"), "unexpected output " + line);
                    return;
                }
            }
        }
        throw new IllegalStateException("the streamed exec ended without output");
    }

    private static double medianMillis(int count, LongSupplier nanos) {
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            samples.add(nanos.getAsLong() / 1e6);
        }
        return medianOf(samples);
    }

    private static long millisSince(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }

    private static void deleteTree(Path root) throws Exception {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
