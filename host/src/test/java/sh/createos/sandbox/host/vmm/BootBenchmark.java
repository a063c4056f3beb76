package sh.createos.sandbox.host.vmm;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.median;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;

/**
 * Boot time of a whole VM (QemuVmm.boot: overlay, qemu, QMP, agent HELLO) beside a bare QEMU boot of the same kernel
 * and initramfs to its first userspace line, alternating run by run so both see the same machine load.
 * Usage: {@code BootBenchmark [RUNS] [MEM_MIB]}; bench/boot.sh runs it.
 */
public final class BootBenchmark {
    private static final String READY = "READY";

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int memMib = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        GuestKit kit = GuestKit.load(DataDir.fromEnvironment());
        Accelerator accelerator = Accelerator.detect();
        // Cold boots: a template restore is measured by SnapshotBenchmark.
        QemuVmm vmm = new QemuVmm(DataDir.fromEnvironment(), kit, accelerator, Duration.ofSeconds(180)).withoutTemplates();
        int diskMib = (int) ((Files.size(kit.image("devbox:1")) >> 20) + 64);
        String prefix = "bench-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4) + "-";

        System.out.printf("accelerator %s, %d MiB, kernel %s, %d runs, load average %s%n", accelerator, memMib,
                kit.kernelVersion(), runs, loadAverage());
        System.out.printf("%4s %14s %18s %14s%n", "run", "bare_ms", "agent_ready_ms", "guest_boot_ms");
        List<Long> bare = new ArrayList<>();
        List<Long> agent = new ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            long bareMs = bareBoot(kit, accelerator, memMib);
            long started = System.nanoTime();
            Vm vm = vmm.boot(new VmSpec(prefix + run, "devbox:1", 1, memMib, diskMib, prefix + run));
            long agentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            long guestMs = vm.agent().hello().bootMs();
            vm.destroy();
            bare.add(bareMs);
            agent.add(agentMs);
            System.out.printf("%4d %14d %18d %14d%n", run, bareMs, agentMs, guestMs);
        }
        long bareMedian = median(bare);
        long agentMedian = median(agent);
        System.out.printf("median bare QEMU boot to first userspace line: %d ms%n", bareMedian);
        System.out.printf("median QemuVmm.boot to agent ready:            %d ms%n", agentMedian);
        System.out.printf("ratio agent-ready / bare:                      %.2f%n", (double) agentMedian / bareMedian);
        System.out.printf("load average at the end: %s%n", loadAverage());
    }

    /**
     * Milliseconds from starting qemu until the initramfs's shell prints READY on the serial console. The same
     * machine, accelerator, kernel and initramfs as a VM, but no disk, agent channel, QMP or daemonizing; the shell
     * powers the guest off right after. Reads the console as it arrives, so it uses ProcessBuilder directly.
     */
    private static long bareBoot(GuestKit kit, Accelerator accelerator, int memMib) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(QemuCommandLine.BINARY, "-M", "microvm,rtc=on,pit=on,pic=on"));
        argv.addAll(accelerator.qemuArgs(1));
        List<String> cmdline = new ArrayList<>(List.of("console=ttyS0", "quiet", "panic=-1"));
        cmdline.addAll(accelerator.kernelArgs());
        cmdline.add("rdinit=/bin/sh -- -c \"echo " + READY + "; poweroff -f\"");
        argv.addAll(List.of("-smp", "1", "-m", memMib + "M", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-kernel", kit.kernel().toString(), "-initrd", kit.initrd().toString(),
                "-append", String.join(" ", cmdline), "-serial", "stdio"));
        long started = System.nanoTime();
        Process qemu = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try (BufferedReader console = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
            List<String> seen = new ArrayList<>();
            for (String line; (line = console.readLine()) != null; ) {
                if (line.strip().equals(READY)) {
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                        throw new IOException("bare qemu did not power off after READY");
                    }
                    return ms;
                }
                seen.add(line);
            }
            throw new IOException("bare qemu exited with " + qemu.waitFor() + " before READY: " + String.join("\n", seen));
        } finally {
            qemu.destroyForcibly().waitFor();
        }
    }
}
