package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How QEMU runs guest code: KVM where the kit's kernel really boots under it, TCG software emulation everywhere else. */
public enum Accelerator {
    KVM,
    TCG;

    private static final Logger log = LoggerFactory.getLogger(Accelerator.class);
    static final Path KVM_DEVICE = Path.of("/dev/kvm");
    /** Forces the accelerator: {@code kvm}, {@code tcg} or {@code auto} (the default: probe). */
    public static final String ENV = "CREATEOS_SANDBOX_ACCEL";

    /**
     * {@link #ENV} when it names one; otherwise what {@link AcceleratorProbe} finds for the guest kit of
     * {@code CREATEOS_SANDBOX_DATA_DIR} (KVM only where that kit's kernel boots under KVM); TCG without a kit.
     */
    public static Accelerator detect() {
        return AcceleratorProbe.fromEnvironment().accelerator();
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
