package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.host.proc.CommandFailedException;

/** How QEMU runs guest code: KVM where the host can really run a KVM vCPU, TCG software emulation everywhere else. */
public enum Accelerator {
    KVM,
    TCG;

    private static final Logger log = LoggerFactory.getLogger(Accelerator.class);
    static final Path KVM_DEVICE = Path.of("/dev/kvm");
    /**
     * A paused microvm with one host-model vCPU that quits at once. Setting up the vCPU is what fails where /dev/kvm
     * opens but cannot run this guest (e.g. a nested KVM without hardware virtualization rejects the vCPU's MSRs).
     */
    private static final String KVM_PROBE = "printf '%s\\n' '{\"execute\":\"qmp_capabilities\"}' '{\"execute\":\"quit\"}'"
            + " | exec " + QemuCommandLine.BINARY + " -M microvm -accel kvm -cpu host -nodefaults -display none -S -qmp stdio";

    /** Forces the accelerator: {@code kvm}, {@code tcg} or {@code auto} (the default: probe). */
    public static final String ENV = "CREATEOS_SANDBOX_ACCEL";

    /**
     * {@link #ENV} when it names one; otherwise KVM when /dev/kvm opens read-write (what QEMU needs) and QEMU can
     * set up a KVM vCPU; otherwise TCG.
     */
    public static Accelerator detect() {
        String forced = System.getenv(ENV);
        if ("tcg".equalsIgnoreCase(forced) || "kvm".equalsIgnoreCase(forced)) {
            log.info("using {}: forced by {}", forced.toUpperCase(), ENV);
            return valueOf(forced.toUpperCase());
        }
        try (FileChannel ignored = FileChannel.open(KVM_DEVICE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened: now see whether QEMU can use it
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            log.info("using TCG: cannot open {} read-write ({})", KVM_DEVICE, e.toString());
            return TCG;
        }
        try {
            Command.of("sh", "-c", KVM_PROBE).timeout(Duration.ofSeconds(20)).run();
            return KVM;
        } catch (CommandFailedException e) {
            log.info("using TCG: {} opens but QEMU cannot run a KVM vCPU: {}", KVM_DEVICE,
                    e.stderr().lines().findFirst().orElse("exit code " + e.exitCode()));
            log.debug("KVM probe: {}", e.getMessage());
            return TCG;
        } catch (IOException e) {
            log.info("using TCG: the KVM probe failed: {}", e.getMessage());
            return TCG;
        }
    }

    /**
     * Kernel command line additions. Under TCG the guest's TSC ticks at the host's TSC rate, and the kernel's early
     * calibration of it against the PIT fails when the host is busy, after which the boot hangs; telling the
     * kernel the rate skips that calibration.
     */
    List<String> kernelArgs() {
        if (this == KVM) {
            return List.of();
        }
        OptionalLong khz = HostTsc.KHZ;
        return khz.isPresent() ? List.of("tsc_early_khz=" + khz.getAsLong()) : List.of();
    }

    /** The host's constant TSC rate from /proc/cpuinfo ("cpu MHz" equals it where the TSC is constant). */
    private static final class HostTsc {
        static final OptionalLong KHZ = read();

        private static OptionalLong read() {
            try {
                List<String> cpu0 = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                        .takeWhile(line -> !line.isBlank()).toList();
                boolean constant = cpu0.stream().anyMatch(l -> l.startsWith("flags") && l.contains(" constant_tsc"));
                return cpu0.stream()
                        .filter(line -> constant && line.startsWith("cpu MHz"))
                        .mapToLong(line -> Math.round(Double.parseDouble(line.substring(line.indexOf(':') + 1).strip()) * 1000))
                        .findFirst();
            } catch (IOException | NumberFormatException e) {
                log.debug("no host TSC rate: {}", e.toString());
                return OptionalLong.empty();
            }
        }
    }

    /** The {@code -accel} and {@code -cpu} arguments for a VM with {@code vcpus} virtual CPUs. */
    List<String> qemuArgs(int vcpus) {
        return switch (this) {
            case KVM -> List.of("-accel", "kvm", "-cpu", "host");
            // One host thread per vCPU instead of a single round-robin thread.
            case TCG -> List.of("-accel", vcpus > 1 ? "tcg,thread=multi" : "tcg", "-cpu", "max");
        };
    }
}
