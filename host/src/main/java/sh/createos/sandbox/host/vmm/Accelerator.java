package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.proc.Command;

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

    /** KVM when /dev/kvm opens read-write (what QEMU needs) and QEMU can set up a KVM vCPU; otherwise TCG. */
    public static Accelerator detect() {
        try (FileChannel ignored = FileChannel.open(KVM_DEVICE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opened: now see whether QEMU can use it
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            log.info("using TCG: cannot open {} read-write ({})", KVM_DEVICE, e.toString());
            return TCG;
        }
        try {
            Command.of("sh", "-c", KVM_PROBE).timeout(Duration.ofSeconds(20)).run();
            return KVM;
        } catch (IOException e) {
            log.warn("using TCG: {} opens but QEMU cannot run a KVM vCPU: {}", KVM_DEVICE, e.getMessage());
            return TCG;
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
