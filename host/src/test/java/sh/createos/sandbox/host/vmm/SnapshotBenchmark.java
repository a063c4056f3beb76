package sh.createos.sandbox.host.vmm;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.median;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;

/**
 * Snapshot latencies through the engine beside their baselines, measured in the same run: create by template restore
 * beside create by cold boot; pause, resume and fork beside a bare QEMU save ({@code stop} + {@code migrate
 * exec:cat > FILE}, unthrottled like the engine's) and restore ({@code -incoming exec:cat FILE} until the vCPUs run) of the same VM;
 * resume and fork both from the full stream a pause writes and from the RAM file {@link SnapshotConverter} turns it
 * into (with the conversion's own time); and the on-disk size of a snapshot. Usage: {@code SnapshotBenchmark [RUNS] [MEM_MIB]}; bench/snapshot.sh runs it.
 */
public final class SnapshotBenchmark {
    private static final Duration TIMEOUT = Duration.ofSeconds(180);
    private static final String[] COLUMNS = {"cold_boot", "template", "pooled", "pause", "bare_save", "resume", "fork",
            "convert", "resume_ram", "fork_ram", "bare_restore"};
    /**
     * Host memory of one idle VM (MiB, from /proc/PID/smaps_rollup): a template child, a cold-booted VM of the same
     * shape, and the bare full restore.
     */
    private static final String[] MEMORY = {"tpl_rss", "tpl_pss", "tpl_anon", "cold_rss", "cold_pss", "cold_anon",
            "bare_rss", "bare_pss", "bare_anon"};
    /** The starts whose steps ({@link StartTimings}) are printed as medians. */
    private static final String[] STEPPED = {"template", "pooled", "resume", "fork"};
    private static final Duration POOL_FILL = Duration.ofSeconds(120);
    private static final Duration SETTLE = Duration.ofSeconds(2);

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int memMib = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        Path dataDir = DataDir.fromEnvironment();
        GuestKit kit = GuestKit.load(dataDir);
        Accelerator accelerator = Accelerator.detect();
        QemuVmm vmm = new QemuVmm(dataDir, kit, accelerator, TIMEOUT);
        // The same engine with pre-started QEMUs: "template" is a restore that spawns its QEMU, "pooled" one that
        // takes a waiting one.
        QemuVmm pooledVmm = new QemuVmm(dataDir, kit, accelerator, TIMEOUT);
        pooledVmm.startPool(1);
        int diskMib = (int) ((Files.size(kit.image("devbox:1")) >> 20) + 64);
        String prefix = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4) + "-";

        // The first create of this key builds the template; it is not what a create costs afterwards.
        vmm.boot(new VmSpec(prefix + "warmup", "devbox:1", 1, memMib, diskMib, "warmup")).destroy();
        pooledVmm.boot(new VmSpec(prefix + "warmup-pool", "devbox:1", 1, memMib, diskMib, "warmup")).destroy();
        Map<String, Map<String, List<Long>>> steps = new LinkedHashMap<>();

        System.out.printf("accelerator %s, %d MiB, %d runs, load average %s; all times in ms%n", accelerator, memMib, runs,
                loadAverage());
        System.out.printf("%4s", "run");
        for (String column : COLUMNS) {
            System.out.printf(" %12s", column);
        }
        for (String column : MEMORY) {
            System.out.printf(" %9s", column);
        }
        System.out.printf(" %12s %12s%n", "memory_MiB", "layer_MiB");
        Map<String, List<Long>> times = new LinkedHashMap<>();
        for (String column : COLUMNS) {
            times.put(column, new ArrayList<>());
        }
        for (String column : MEMORY) {
            times.put(column, new ArrayList<>());
        }
        for (int run = 1; run <= runs; run++) {
            Map<String, Long> row = new LinkedHashMap<>();
            String id = prefix + run;

            long started = System.nanoTime();
            Vm cold = vmm.withoutTemplates().boot(new VmSpec(id + "-cold", "devbox:1", 1, memMib, diskMib, "cold"));
            row.put("cold_boot", since(started));
            Thread.sleep(SETTLE);
            memoryOf(cold.pid(), "cold", row);
            cold.destroy();

            awaitPoolMember(pooledVmm);
            started = System.nanoTime();
            Vm pooled = pooledVmm.boot(new VmSpec(id + "-pool", "devbox:1", 1, memMib, diskMib, "pooled"));
            row.put("pooled", since(started));
            record(steps, "pooled", pooled);
            if (!pooled.start().steps().micros().containsKey("pool claim")) {
                throw new IOException("the pooled create did not take a pre-started QEMU: " + pooled.start().steps());
            }
            pooled.destroy();

            started = System.nanoTime();
            Vm vm = vmm.boot(new VmSpec(id, "devbox:1", 1, memMib, diskMib, "bench"));
            row.put("template", since(started));
            record(steps, "template", vm);
            Thread.sleep(SETTLE);
            memoryOf(vm.pid(), "tpl", row);

            started = System.nanoTime();
            PausedVm paused = vm.pause();
            row.put("pause", since(started));
            long memory = paused.memoryBytes();
            long layer = paused.diskLayerBytes();

            started = System.nanoTime();
            Vm child = vmm.fork(paused, new VmSpec(id + "-fork", "devbox:1", 1, memMib, diskMib, "fork"));
            row.put("fork", since(started));
            record(steps, "fork", child);
            child.destroy();

            // The same snapshot converted into a RAM file beside its device state, then restored from that.
            started = System.nanoTime();
            vmm.convertingPausedSnapshots();
            SnapshotConverter.submit(new VmDirectory(paused.dir()));
            if (!SnapshotConverter.await(paused.dir(), TIMEOUT)) {
                throw new IOException("the conversion of " + paused.id() + " did not switch; see the log");
            }
            vmm.stopConvertingPausedSnapshots();
            row.put("convert", since(started));

            started = System.nanoTime();
            child = vmm.fork(paused, new VmSpec(id + "-fork-ram", "devbox:1", 1, memMib, diskMib, "fork"));
            row.put("fork_ram", since(started));
            child.destroy();

            started = System.nanoTime();
            vm = vmm.resume(paused);
            row.put("resume_ram", since(started));

            // Paused again (a full stream, no conversion), for the resume from a full stream.
            paused = vm.pause();
            started = System.nanoTime();
            vm = vmm.resume(paused);
            row.put("resume", since(started));
            record(steps, "resume", vm);

            VmSpec spec = vm.spec();
            vm.close();
            bareSaveAndRestore(new VmDirectory(vm.dir()), spec, kit, accelerator, row);
            vmm.attach(spec.id()).orElseThrow(() -> new IOException("the bare-restored VM is gone")).destroy();

            System.out.printf("%4d", run);
            for (String column : COLUMNS) {
                times.get(column).add(row.get(column));
                System.out.printf(" %12d", row.get(column));
            }
            for (String column : MEMORY) {
                times.get(column).add(row.get(column));
                System.out.printf(" %9d", row.get(column));
            }
            System.out.printf(" %12.1f %12.1f%n", memory / 1048576.0, layer / 1048576.0);
        }
        pooledVmm.closePool();
        long bareRestore = median(times.get("bare_restore"));
        System.out.println("medians:");
        System.out.printf("  create: template restore %6d   cold boot    %6d%n", median(times.get("template")), median(times.get("cold_boot")));
        System.out.printf("  create: pre-started qemu %6d   bare restore %6d   ratio %.2f%n", median(times.get("pooled")),
                bareRestore, ratio(median(times.get("pooled")), bareRestore));
        System.out.printf("  pause:  engine           %6d   bare save    %6d   ratio %.2f%n", median(times.get("pause")),
                median(times.get("bare_save")), ratio(median(times.get("pause")), median(times.get("bare_save"))));
        System.out.printf("  resume: full stream      %6d   RAM file     %6d   bare restore %6d   ratios %.2f / %.2f%n",
                median(times.get("resume")), median(times.get("resume_ram")), bareRestore,
                ratio(median(times.get("resume")), bareRestore), ratio(median(times.get("resume_ram")), bareRestore));
        System.out.printf("  fork:   full stream      %6d   RAM file     %6d   bare restore %6d   ratios %.2f / %.2f%n",
                median(times.get("fork")), median(times.get("fork_ram")), bareRestore,
                ratio(median(times.get("fork")), bareRestore), ratio(median(times.get("fork_ram")), bareRestore));
        System.out.printf("  conversion of a paused VM into a RAM file (background, nice 19): %d%n", median(times.get("convert")));
        System.out.println("  steps (median ms):");
        for (String start : STEPPED) {
            StringBuilder line = new StringBuilder();
            steps.getOrDefault(start, Map.of()).forEach((step, micros) -> line.append(line.isEmpty() ? "" : ", ")
                    .append(step).append(' ').append(String.format("%.1f", median(micros) / 1000.0)));
            System.out.printf("    %-9s %s%n", start, line);
        }
        System.out.printf("  idle VM host memory (MiB): template child RSS %d, PSS %d, anonymous %d;"
                        + " cold-booted VM RSS %d, PSS %d, anonymous %d;"
                        + " bare full restore (QEMU's own) RSS %d, PSS %d, anonymous %d%n",
                median(times.get("tpl_rss")), median(times.get("tpl_pss")), median(times.get("tpl_anon")),
                median(times.get("cold_rss")), median(times.get("cold_pss")), median(times.get("cold_anon")),
                median(times.get("bare_rss")), median(times.get("bare_pss")), median(times.get("bare_anon")));
        System.out.printf("load average at the end: %s%n", loadAverage());
    }

    /**
     * Saves the running VM with nothing but QMP ({@code stop}, {@code migrate exec:cat > FILE}, {@code quit}), then
     * starts it again from the file with {@code -incoming} until its vCPUs run: QEMU's own cost, without the
     * engine's agent reconnect, clock/hostname configure and file handling.
     */
    private static void bareSaveAndRestore(VmDirectory dir, VmSpec spec, GuestKit kit, Accelerator accelerator,
            Map<String, Long> row) throws IOException, InterruptedException {
        Path file = dir.path().resolve("bare.snap");
        long pid = dir.readPid();
        long started = System.nanoTime();
        try (QmpClient qmp = QmpClient.connect(dir.qmpSocket(), TIMEOUT)) {
            qmp.execute("stop");
            // The engine's bandwidth setting, so that the difference is the engine's own work, not QEMU's throttle.
            qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", 1L << 40));
            // Today's plain stream, which `-incoming exec:cat` loads without capabilities.
            qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                    List.of(Map.of("capability", "x-ignore-shared", "state", false))));
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + file));
            VmPause.awaitMigration(qmp, "outgoing");
            row.put("bare_save", since(started));
            try {
                qmp.execute("quit");
            } catch (IOException e) {
                // QEMU may close the socket before it answers
            }
        }
        if (!new VmmProcess(pid, dir.path()).awaitExit(Duration.ofSeconds(30))) {
            throw new IOException("qemu " + pid + " did not quit");
        }
        started = System.nanoTime();
        Command.of(QemuCommandLine.forVm(spec, kit, dir, accelerator, null).restoringFrom(file).argv()).timeout(TIMEOUT).run();
        try (QmpClient qmp = QmpClient.connect(dir.qmpSocket(), TIMEOUT)) {
            while (true) {
                String status = qmp.execute("query-status").path("status").asText();
                if (status.equals("running")) {
                    break;
                }
                if (status.equals("paused")) {
                    qmp.execute("cont");
                } else {
                    Thread.sleep(5);
                }
            }
            row.put("bare_restore", since(started));
        }
        Thread.sleep(SETTLE);
        memoryOf(dir.readPid(), "bare", row);
        Files.delete(file);
    }

    /** Rss, Pss and Anonymous of a QEMU in MiB: Pss counts the template's page-cache pages shared by its children once. */
    private static void memoryOf(long pid, String prefix, Map<String, Long> row) throws IOException {
        Map<String, Long> kib = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            String[] words = line.split("\\s+");
            if (words.length >= 3 && words[2].equals("kB")) {
                kib.put(words[0].replace(":", ""), Long.parseLong(words[1]));
            }
        }
        row.put(prefix + "_rss", kib.getOrDefault("Rss", 0L) >> 10);
        row.put(prefix + "_pss", kib.getOrDefault("Pss", 0L) >> 10);
        row.put(prefix + "_anon", kib.getOrDefault("Anonymous", 0L) >> 10);
    }

    private static double ratio(long ours, long baseline) {
        return baseline == 0 ? Double.NaN : (double) ours / baseline;
    }

    /** Adds the steps of {@code vm}'s start under {@code start}. */
    private static void record(Map<String, Map<String, List<Long>>> steps, String start, Vm vm) {
        StartTimings timings = vm.start().steps();
        if (timings != null) {
            timings.micros().forEach((step, micros) ->
                    steps.computeIfAbsent(start, s -> new LinkedHashMap<>()).computeIfAbsent(step, s -> new ArrayList<>()).add(micros));
        }
    }

    /** Waits until the pool has a QEMU waiting (it refills in the background after each create). */
    private static void awaitPoolMember(QemuVmm vmm) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + POOL_FILL.toNanos();
        while (vmm.pool().members().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the pool did not refill within " + POOL_FILL);
            }
            Thread.sleep(50);
        }
    }

    private static long since(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }
}
