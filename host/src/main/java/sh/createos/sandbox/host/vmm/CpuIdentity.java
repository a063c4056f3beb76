package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The CPU a guest saw, as a memory snapshot of it must find again: the accelerator, QEMU's CPU model and QEMU's
 * version, and for KVM's {@code host} model the host CPU itself (its model name and feature flags). A guest restored
 * onto another CPU meets features other than those it probed at boot and crashes or computes wrongly, so a snapshot
 * is restored only under the identity it was taken with.
 */
final class CpuIdentity {
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private CpuIdentity() {}

    /** The identity of VMs this host starts under {@code accelerator}. */
    static String of(Accelerator accelerator) throws IOException {
        return of(accelerator.qemuArgs(1));
    }

    /** The identity of a VM whose QEMU runs with {@code argv} (its {@code -accel} and {@code -cpu} arguments). */
    static String of(List<String> argv) throws IOException {
        String accel = valueOf(argv, "-accel").split(",", 2)[0];
        String cpu = valueOf(argv, "-cpu");
        String identity = accel + " cpu=" + cpu + " (" + QemuVersion.get() + ")";
        return cpu.startsWith("host") ? identity + " host=" + hostCpu() : identity;
    }

    /** Throws unless a snapshot taken under {@code recorded} may be restored here; null is a snapshot from before tags. */
    static void requireRestorable(String recorded, Accelerator accelerator, String vmId) throws IOException {
        if (recorded == null) {
            return;
        }
        String here = of(accelerator);
        if (!recorded.equals(here)) {
            throw new SnapshotIncompatibleException("the snapshot of VM " + vmId + " was taken on \"" + recorded
                    + "\" and this host runs \"" + here + "\": it cannot be restored here");
        }
    }

    private static String valueOf(List<String> argv, String option) {
        int at = argv.indexOf(option);
        return at >= 0 && at + 1 < argv.size() ? argv.get(at + 1) : "default";
    }

    /** The first CPU's model name and a digest of its feature flags. */
    private static String hostCpu() throws IOException {
        List<String> cpu0 = Files.readAllLines(CPUINFO).stream().takeWhile(line -> !line.isBlank()).toList();
        String model = field(cpu0, "model name");
        String flags = field(cpu0, "flags");
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(flags.getBytes(StandardCharsets.UTF_8));
            return model + "/" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String field(List<String> lines, String name) {
        return lines.stream().filter(line -> line.startsWith(name)).map(line -> line.substring(line.indexOf(':') + 1).strip())
                .findFirst().orElse("unknown");
    }
}
