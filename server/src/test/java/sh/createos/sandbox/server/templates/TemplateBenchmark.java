package sh.createos.sandbox.server.templates;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.server.TestApi;

/**
 * Template builds and creates from their result, in one run so both sides of each pair see the same machine load:
 * a three-step build cold (nothing cached: a fresh nonce in its first ARG) beside the same build again (every step
 * cached), and create-to-first-output from the template beside the same from {@code devbox:1} (after one uncounted
 * create of each, which builds its template snapshot). Usage: {@code TemplateBenchmark [RUNS]}; bench/templates.sh.
 */
public final class TemplateBenchmark {
    private static final String SHAPE = "s-1vcpu-512mb";

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        Path shared = DataDir.fromEnvironment();
        Files.createDirectories(shared.resolve("tmp"));
        Path dataDir = Files.createTempDirectory(shared.resolve("tmp"), "tpl-");
        System.setProperty("createos.templates.memory_mib", "512");
        System.setProperty("createos.templates.disk_mib", "512");
        System.setProperty("createos.templates.network", "false");
        try (TestApi api = TestApi.start(dataDir, true)) {
            System.out.printf("accelerator %s, builder 1 vCPU / 512 MiB, shape %s, %d runs, load average %s%n",
                    Accelerator.detect(), SHAPE, runs, loadAverage());
            System.out.printf("%4s %14s %16s %26s %28s%n", "run", "cold_build_ms", "cached_build_ms",
                    "devbox_create_to_output_ms", "template_create_to_output_ms");
            String template = null;
            for (int run = 1; run <= runs; run++) {
                String dockerfile = "FROM devbox:1\nARG NONCE=" + Long.toHexString(ThreadLocalRandom.current().nextLong())
                        + "\nRUN echo $NONCE > /nonce\nRUN mkdir -p /opt/app && seq 1 1000 > /opt/app/numbers\n"
                        + "RUN sha256sum /opt/app/numbers > /opt/app/sum\n";
                long coldMs = build(api, "bench-" + run, dockerfile);
                long cachedMs = build(api, "bench-" + run + "-again", dockerfile);
                template = "bench-" + run;
                if (run == 1) { // warm-up creates, uncounted: each image's first create builds its template snapshot
                    createToOutput(api, "devbox:1");
                    createToOutput(api, template);
                }
                long devboxMs = createToOutput(api, "devbox:1");
                long templateMs = createToOutput(api, template);
                System.out.printf("%4d %14d %16d %26d %28d%n", run, coldMs, cachedMs, devboxMs, templateMs);
            }
            System.out.printf("load average after: %s%n", loadAverage());
        } finally {
            System.clearProperty("createos.templates.memory_mib");
            System.clearProperty("createos.templates.disk_mib");
            System.clearProperty("createos.templates.network");
        }
    }

    /** Submit to ready, in ms. */
    private static long build(TestApi api, String name, String dockerfile) throws Exception {
        long started = System.nanoTime();
        TestApi.Reply submitted = api.post("/v1/templates", api.aliceKey, TestApi.map("name", name, "dockerfile", dockerfile));
        if (submitted.status() != 200) {
            throw new IllegalStateException("submit failed: " + submitted);
        }
        String id = submitted.data().get("id").asText();
        while (true) {
            JsonNode t = api.get("/v1/templates/" + id, api.aliceKey).data();
            switch (t.get("status").asText()) {
                case "ready" -> {
                    return (System.nanoTime() - started) / 1_000_000;
                }
                case "failed" -> throw new IllegalStateException("build failed: " + t);
                default -> Thread.sleep(100);
            }
        }
    }

    /** POST /v1/sandboxes and a buffered exec of {@code echo ready} until its answer, in ms; then destroys it. */
    private static long createToOutput(TestApi api, String rootfs) throws Exception {
        long started = System.nanoTime();
        TestApi.Reply created = api.post("/v1/sandboxes", api.aliceKey, TestApi.map("shape", SHAPE, "rootfs", rootfs));
        if (created.status() != 200) {
            throw new IllegalStateException("create from " + rootfs + " failed: " + created);
        }
        String id = created.data().get("id").asText();
        TestApi.Reply out = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey,
                TestApi.map("cmd", "echo", "args", List.of("ready")));
        long ms = (System.nanoTime() - started) / 1_000_000;
        if (!out.data().get("result").get("stdout").asText().equals("ready\n")) {
            throw new IllegalStateException("unexpected output: " + out);
        }
        api.delete("/v1/sandboxes/" + id, api.aliceKey);
        return ms;
    }
}
