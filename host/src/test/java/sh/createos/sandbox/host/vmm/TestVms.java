package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;

/**
 * The VM tests' shared setup: the real guest kit from the data directory, one QemuVmm, and VM ids that start with a
 * prefix unique to this test run so that cleanup never touches anybody else's VMs.
 */
final class TestVms {
    static final String RUN_PREFIX = "t" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2) + "-";
    /** Generous: ten VMs booting at once under TCG on two cores take a while. */
    static final Duration BOOT_TIMEOUT = Duration.ofSeconds(240);
    static final String IMAGE = "devbox:1";
    private static final long MIB = 1024 * 1024;

    private static GuestKit kit;
    private static QemuVmm vmm;

    private TestVms() {}

    static Path dataDir() {
        return DataDir.fromEnvironment();
    }

    /** The real kit; a missing one fails the test (it is never skipped). */
    static synchronized GuestKit kit() {
        if (kit == null) {
            try {
                kit = GuestKit.load(dataDir());
            } catch (IOException e) {
                fail("the VM tests need the guest kit: run `bin/createos-sandbox setup` first (" + e.getMessage() + ")", e);
            }
        }
        return kit;
    }

    static synchronized QemuVmm vmm() {
        if (vmm == null) {
            vmm = new QemuVmm(dataDir(), kit(), Accelerator.detect(), BOOT_TIMEOUT);
        }
        return vmm;
    }

    /** A spec for this run: id and hostname {@code <prefix><name>}, a disk 256 MiB larger than the image. */
    static VmSpec spec(String name, int vcpus, int memMib) {
        return spec(name, IMAGE, vcpus, memMib);
    }

    /** The same on another image of the kit. */
    static VmSpec spec(String name, String image, int vcpus, int memMib) {
        String id = RUN_PREFIX + name;
        return new VmSpec(id, image, vcpus, memMib, imageMib(image) + 256, id);
    }

    static int imageMib() {
        return imageMib(IMAGE);
    }

    static int imageMib(String image) {
        try {
            return (int) ((Files.size(kit().image(image)) + MIB - 1) / MIB);
        } catch (IOException e) {
            throw new AssertionError("cannot read the size of image " + image, e);
        }
    }

    /** Kills and removes every VM (running or paused) of this test run that a test left behind. */
    static void destroyLeftovers() throws IOException {
        Path vms = dataDir().resolve("vms");
        if (!Files.isDirectory(vms)) {
            return;
        }
        List<Path> leftovers;
        try (Stream<Path> dirs = Files.list(vms)) {
            leftovers = dirs.filter(dir -> dir.getFileName().toString().startsWith(RUN_PREFIX)).toList();
        }
        for (Path dir : leftovers) {
            VmDirectory vm = new VmDirectory(dir);
            VmmProcess process = new VmmProcess(vm.readPid(), dir);
            process.kill();
            process.awaitExit(Duration.ofSeconds(10));
            vm.delete();
        }
        // Their disk layers, if paused ones were among them.
        new DiskLayers(dataDir().toAbsolutePath().normalize()).collectGarbage();
    }

    /** No process (its qemu or any other) runs with the VM's directory on its command line, and the directory is gone. */
    static void assertNothingLeft(String id, long pid) throws IOException {
        Path dir = dataDir().resolve("vms").resolve(id);
        assertThat(new VmmProcess(pid, dir).isRunning()).as("qemu pid %d still running", pid).isFalse();
        assertThat(processesMentioning(dir)).as("processes mentioning %s", dir).isEmpty();
        assertThat(dir).as("VM directory").doesNotExist();
    }

    /** Live (non-zombie) processes whose command line contains {@code dir}. */
    static List<Long> processesMentioning(Path dir) throws IOException {
        return VmmProcess.naming(dir).stream().map(VmmProcess::pid).toList();
    }

    /** Another JVM on this test's class path, running {@code main}: stdout is piped, stderr is this test's. */
    static Process startJvm(Class<?> main, String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classpath, main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    /** A file of the guest ("none" when it cannot be read). */
    static String readFile(Vm vm, String path) throws IOException {
        return SnapshotTest.run(vm, "sh", "-c", "cat " + path + " 2>/dev/null || echo none").strip();
    }

    /** The SHA-256 of a host file, in hex. */
    static String sha256(Path file) throws Exception {
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        try (java.io.InputStream in = new java.security.DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
