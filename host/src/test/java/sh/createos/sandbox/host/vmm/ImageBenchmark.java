package sh.createos.sandbox.host.vmm;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.median;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;

/**
 * Per image of the kit, in one run: create (template restore) to the first output of an exec, and what its template
 * holds on disk (the snapshot a create restores), beside devbox:1, the default. The first create of each image
 * builds its template and is not counted. Usage: {@code ImageBenchmark [RUNS] [MEM_MIB]}; bench/images.sh runs it.
 */
public final class ImageBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int memMib = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        Path dataDir = DataDir.fromEnvironment();
        GuestKit kit = GuestKit.load(dataDir);
        QemuVmm vmm = new QemuVmm(dataDir, kit, Accelerator.detect(), Duration.ofSeconds(300));
        String prefix = "ibench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4) + "-";
        System.out.printf("accelerator %s, %d MiB, %d runs per image, load average %s%n", Accelerator.detect(), memMib,
                runs, loadAverage());
        System.out.printf("%-12s %10s %22s %22s %18s%n", "image", "image_mib", "create_to_output_ms",
                "vs_devbox:1", "template_mib");
        List<String> images = new ArrayList<>(kit.images().keySet());
        images.remove("devbox:1");
        images.add(0, "devbox:1");
        long baseline = 0;
        for (String image : images) {
            int diskMib = (int) ((Files.size(kit.image(image)) >> 20) + 256);
            List<Long> times = new ArrayList<>();
            for (int run = 0; run <= runs; run++) {
                long started = System.nanoTime();
                Vm vm = vmm.boot(new VmSpec(prefix + image.replace(':', '-') + "-" + run, image, 1, memMib, diskMib,
                        "bench"));
                vm.agent().run(ExecRequest.of("echo", "ready"));
                long ms = (System.nanoTime() - started) / 1_000_000;
                vm.destroy();
                if (run > 0) {
                    times.add(ms);
                }
            }
            long createMs = median(times);
            if (image.equals("devbox:1")) {
                baseline = createMs;
            }
            System.out.printf("%-12s %10d %22d %21.2fx %18.1f%n", image, Files.size(kit.image(image)) >> 20, createMs,
                    (double) createMs / baseline, templateBytes(dataDir, image, memMib) / 1048576.0);
        }
    }

    /** Bytes on disk of the templates made for {@code image} at this memory size (memory and device state, disk). */
    private static long templateBytes(Path dataDir, String image, int memMib) throws IOException {
        long total = 0;
        Path templates = dataDir.resolve("templates");
        try (Stream<Path> dirs = Files.list(templates)) {
            for (Path dir : dirs.toList()) {
                Path manifest = dir.resolve(Templates.MANIFEST);
                if (!Files.isRegularFile(manifest)) {
                    continue;
                }
                JsonNode m = JSON.readTree(manifest.toFile());
                if (image.equals(m.path("image").asText()) && m.path("mem_mib").asInt() == memMib) {
                    // Allocated blocks, not the apparent size: RAM files are sparse.
                    String du = Command.of("du", "-s", "--block-size=1", dir.toString()).run().stdout();
                    total += Long.parseLong(du.split("\\s+")[0]);
                }
            }
        }
        return total;
    }
}
