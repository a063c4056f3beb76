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
 * Per image of the kit, in one run: create (template restore) to the first output of an exec, and the size of its
 * template's memory (the guest RAM file a create maps copy-on-write, plus device state) and disk overlay, beside
 * devbox:1, the default. The first create of each image
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
        System.out.printf("%-12s %10s %20s %12s %17s %12s %18s%n", "image", "image_mib", "create_to_output_ms",
                "vs_devbox:1", "template_mem_mib", "vs_devbox:1", "template_disk_mib");
        List<String> images = new ArrayList<>(kit.images().keySet());
        images.remove("devbox:1");
        images.add(0, "devbox:1");
        long baseline = 0;
        long baselineMem = 0;
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
            long[] template = templateBytes(dataDir, image, memMib);
            if (image.equals("devbox:1")) {
                baseline = createMs;
                baselineMem = template[0];
            }
            System.out.printf("%-12s %10d %20d %11.2fx %17.1f %11.2fx %18.1f%n", image,
                    Files.size(kit.image(image)) >> 20, createMs, (double) createMs / baseline,
                    template[0] / 1048576.0, (double) template[0] / baselineMem, template[1] / 1048576.0);
        }
    }

    /**
     * Allocated bytes of the templates made for {@code image} at this memory size: {memory (RAM file and device
     * state), disk overlay}. Allocated blocks, not apparent sizes: the RAM file is sparse.
     */
    private static long[] templateBytes(Path dataDir, String image, int memMib) throws IOException {
        long[] total = new long[2];
        try (Stream<Path> dirs = Files.list(dataDir.resolve("templates"))) {
            for (Path dir : dirs.toList()) {
                Path manifest = dir.resolve(Templates.MANIFEST);
                if (!Files.isRegularFile(manifest)) {
                    continue;
                }
                JsonNode m = JSON.readTree(manifest.toFile());
                if (image.equals(m.path("image").asText()) && m.path("mem_mib").asInt() == memMib) {
                    total[0] += allocated(dir.resolve(Templates.RAM)) + allocated(dir.resolve(Templates.MEMORY));
                    total[1] += allocated(dir.resolve(Templates.DISK));
                }
            }
        }
        return total;
    }

    private static long allocated(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        String du = Command.of("du", "-s", "--block-size=1", file.toString()).run().stdout();
        return Long.parseLong(du.split("\\s+")[0]);
    }
}
