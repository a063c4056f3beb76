package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A paused VM is converted in the background from a full memory stream into a RAM file beside its device state;
 * its resume and forks then map the file copy-on-write and keep its memory: a running python counter and a tmpfs
 * file. Nothing writes the file again, a kill mid-conversion leaves a snapshot that resumes, and destroy removes all.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class ConvertedSnapshotTest {
    private static final int MEM_MIB = 256;
    private static final Duration CONVERSION = Duration.ofMinutes(4);

    @BeforeAll
    static void convert() {
        TestVms.vmm().convertingPausedSnapshots();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.vmm().stopConvertingPausedSnapshots();
        TestVms.destroyLeftovers();
    }

    @Test
    void forksAndTheResumeOfAConvertedSnapshotKeepItsMemoryAndNeverWriteItsRamFile() throws Exception {
        Vm vm = TestVms.vmm().boot(TestVms.spec("conv-src", 1, MEM_MIB));
        List<Vm> children = new ArrayList<>();
        try {
            SnapshotTest.startCounter(vm);
            SnapshotTest.Counter counted = SnapshotTest.awaitCount(vm, 5);
            SnapshotTest.write(vm, "/run/who", "parent");
            PausedVm paused = vm.pause();
            VmDirectory dir = new VmDirectory(paused.dir());
            assertThat(dir.readPaused().ramLayout()).as("a pause writes a full stream").isEqualTo(PausedManifest.FULL_STREAM);

            assertThat(SnapshotConverter.await(dir.path(), CONVERSION)).as("converted").isTrue();
            assertThat(dir.readPaused().ramLayout()).isEqualTo(PausedManifest.RAM_FILE);
            assertThat(dir.memorySnapshot()).as("the full stream, once switched").doesNotExist();
            assertThat(dir.conversionDir()).doesNotExist();
            assertThat(Files.size(dir.ramFile())).isEqualTo(MEM_MIB * 1024L * 1024);
            assertThat(Files.size(dir.deviceState())).as("device state only").isLessThan(4L * 1024 * 1024);
            assertThat(paused.memoryBytes()).isEqualTo(Files.size(dir.ramFile()) + Files.size(dir.deviceState()));
            String ram = TestVms.sha256(dir.ramFile());

            for (String name : List.of("conv-a", "conv-b")) {
                Vm fork = TestVms.vmm().fork(paused, TestVms.spec(name, 1, MEM_MIB));
                children.add(fork);
                assertThat(cmdline(fork)).contains("mem-path=" + dir.ramFile() + ",share=off");
                assertThat(TestVms.readFile(fork, "/run/who")).as("the fork keeps the tmpfs file").isEqualTo("parent");
                SnapshotTest.Counter forked = SnapshotTest.awaitCount(fork, counted.count() + 3);
                assertThat(forked.pid()).as("the parent's counter process runs on in the fork").isEqualTo(counted.pid());
                SnapshotTest.write(fork, "/run/who", name);
                assertThat(SnapshotTest.run(fork, "sh", "-c",
                        "head -c 16M /dev/urandom > /run/fill && wc -c < /run/fill").strip()).isEqualTo("16777216");
            }
            assertThat(TestVms.readFile(children.get(0), "/run/who")).as("no cross-talk").isEqualTo("conv-a");
            assertThat(TestVms.readFile(children.get(1), "/run/who")).as("no cross-talk").isEqualTo("conv-b");
            assertThat(TestVms.sha256(dir.ramFile())).as("the RAM file after forks wrote memory").isEqualTo(ram);

            vm = TestVms.vmm().resume(paused);
            assertThat(cmdline(vm)).contains("mem-path=" + dir.ramFile() + ",share=off");
            assertThat(TestVms.readFile(vm, "/run/who")).isEqualTo("parent");
            assertThat(SnapshotTest.awaitCount(vm, counted.count() + 3).pid()).isEqualTo(counted.pid());
            assertThat(dir.ramFile()).as("the resume drops the snapshot; its QEMU maps the unlinked file").doesNotExist();
            assertThat(TestVms.readFile(children.get(0), "/run/who")).as("a fork keeps the unlinked file mapped").isEqualTo("conv-a");

            // Paused again, its private mapping is saved in full and converted anew.
            SnapshotTest.write(vm, "/run/who", "again");
            long parentPid = vm.pid();
            paused = vm.pause();
            assertThat(dir.readPaused().ramLayout()).isEqualTo(PausedManifest.FULL_STREAM);
            assertThat(Files.size(dir.memorySnapshot())).as("the RAM is in the stream").isGreaterThan(16L * 1024 * 1024);
            assertThat(SnapshotConverter.await(dir.path(), CONVERSION)).as("converted again").isTrue();
            Vm again = TestVms.vmm().fork(paused, TestVms.spec("conv-c", 1, MEM_MIB));
            children.add(again);
            assertThat(TestVms.readFile(again, "/run/who")).isEqualTo("again");
            assertThat(SnapshotTest.awaitCount(again, counted.count() + 6).pid()).isEqualTo(counted.pid());

            for (Vm child : children) {
                child.destroy();
            }
            paused.destroy();
            TestVms.assertNothingLeft(paused.id(), parentPid);
            for (Vm child : children) {
                TestVms.assertNothingLeft(child.id(), child.pid());
            }
            assertThat(ForkTest.layersOf("conv-")).isEmpty();
        } finally {
            for (Vm child : children) {
                if (child.isAlive()) {
                    child.destroy();
                }
            }
        }
    }

    @Test
    void aControlPlaneKilledMidConversionLeavesASnapshotThatResumes() throws Exception {
        VmSpec spec = TestVms.spec("conv-kill", 1, MEM_MIB);
        Vm vm = TestVms.vmm().boot(spec);
        SnapshotTest.write(vm, "/run/who", "survivor");
        PausedVm paused;
        TestVms.vmm().stopConvertingPausedSnapshots();
        try {
            paused = vm.pause();
        } finally {
            TestVms.vmm().convertingPausedSnapshots();
        }
        VmDirectory dir = new VmDirectory(paused.dir());
        Path seamFile = Files.createTempFile("conversion-seam", ".txt");
        Files.delete(seamFile);
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dcreateos.test.seam=" + TestSeam.CONVERSION_SAVED, "-Dcreateos.test.seam-file=" + seamFile,
                "-cp", classpath, ConvertUntilSeam.class.getName(), spec.id())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + CONVERSION.toNanos();
            while (!Files.exists(seamFile) && other.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(seamFile).as("the other JVM reached the seam").exists();
        } finally {
            other.destroyForcibly().waitFor(); // SIGKILL mid-conversion
            Files.deleteIfExists(seamFile);
        }
        assertThat(TestVms.processesMentioning(dir.conversionDir())).as("the conversion's qemu outlived its JVM").isNotEmpty();
        assertThat(dir.conversionDir().resolve("memory.snap.tmp")).exists();
        // As when the JVM dies before the conversion's QEMU has written its pid file: recovery must find it anyway.
        Files.delete(new VmDirectory(dir.conversionDir()).pidFile());

        PausedVm found = TestVms.vmm().findPaused(spec.id()).orElseThrow();
        assertThat(TestVms.processesMentioning(dir.conversionDir())).as("recovery killed it").isEmpty();
        assertThat(dir.conversionDir()).doesNotExist();
        assertThat(dir.readPaused().ramLayout()).isEqualTo(PausedManifest.FULL_STREAM);
        assertThat(dir.ramFile()).doesNotExist();

        vm = TestVms.vmm().resume(found);
        assertThat(TestVms.readFile(vm, "/run/who")).isEqualTo("survivor");
        long pid = vm.pid();
        vm.destroy();
        TestVms.assertNothingLeft(spec.id(), pid);
    }

    /** A server that stops (LocalHost.detachAll) cancels the conversion under way: no QEMU of it outlives the JVM. */
    @Test
    void stoppingTheConversionsCancelsTheOneUnderWayAndTheSnapshotStaysAFullStream() throws Exception {
        VmSpec spec = TestVms.spec("conv-stop", 1, MEM_MIB);
        Vm vm = TestVms.vmm().boot(spec);
        SnapshotTest.write(vm, "/run/who", "still here");
        PausedVm paused = vm.pause();
        VmDirectory dir = new VmDirectory(paused.dir());
        try {
            // Running for a second or more here (it streams the whole memory in under nice 19): seen at once.
            long deadline = System.nanoTime() + CONVERSION.toNanos();
            while (TestVms.processesMentioning(dir.conversionDir()).isEmpty()) {
                assertThat(dir.readPaused().ramLayout()).as("converted before its QEMU was seen")
                        .isEqualTo(PausedManifest.FULL_STREAM);
                assertThat(System.nanoTime()).as("the conversion's QEMU started").isLessThan(deadline);
                Thread.sleep(5);
            }
            TestVms.vmm().stopConvertingPausedSnapshots();
            assertThat(TestVms.processesMentioning(dir.conversionDir())).as("the conversion's qemu").isEmpty();
            assertThat(dir.conversionDir()).doesNotExist();
            assertThat(dir.readPaused().ramLayout()).isEqualTo(PausedManifest.FULL_STREAM);
        } finally {
            TestVms.vmm().convertingPausedSnapshots();
        }
        vm = TestVms.vmm().resume(paused);
        assertThat(TestVms.readFile(vm, "/run/who")).isEqualTo("still here");
        long pid = vm.pid();
        vm.destroy();
        TestVms.assertNothingLeft(spec.id(), pid);
    }

    private static String cmdline(Vm vm) throws IOException {
        return String.join(" ", Files.readString(Path.of("/proc", Long.toString(vm.pid()), "cmdline")).split("\0"));
    }
}
