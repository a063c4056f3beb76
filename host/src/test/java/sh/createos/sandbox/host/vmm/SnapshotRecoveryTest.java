package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a crash at each point of a pause or resume leaves, as a fresh QemuVmm (a restarted control plane) finds it:
 * never a snapshot that looks complete and is not, and every half-done step finished or undone.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class SnapshotRecoveryTest {
    private static final int MEM_MIB = 256;

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    /** A new engine over the same data directory, as after a restart of the control plane. */
    private static QemuVmm freshVmm() {
        return new QemuVmm(TestVms.dataDir(), TestVms.kit(), TestVms.vmm().accelerator(), TestVms.BOOT_TIMEOUT);
    }

    @Test
    void aVmmKilledMidPauseLeavesNoCompleteLookingSnapshot() throws Exception {
        Vm vm = TestVms.vmm().boot(TestVms.spec("killed-mid-pause", 1, MEM_MIB));
        // Memory that does not compress keeps the migration busy long enough to be cut off.
        SnapshotTest.run(vm, "sh", "-c", "nohup setsid python3 -c \"import os, time; b = os.urandom(100 << 20);"
                + " open('/run/filled', 'w').close(); time.sleep(1e9)\" >/dev/null 2>&1 &");
        long filled = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (vm.agent().run(sh.createos.sandbox.host.agent.ExecRequest.of("test", "-e", "/run/filled")).exitCode() != 0) {
            assertThat(System.nanoTime()).as("memory filled").isLessThan(filled);
            Thread.sleep(200);
        }
        Path dir = vm.dir();
        long pid = vm.pid();

        CompletableFuture<PausedVm> pause = CompletableFuture.supplyAsync(() -> {
            try {
                return vm.pause();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve("memory.snap.tmp")) && !pause.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

        assertThatThrownBy(pause::get).isInstanceOf(ExecutionException.class)
                .cause().cause().isInstanceOf(SnapshotException.class).hasMessageContaining("pause of VM " + vm.id());
        assertThat(dir.resolve("paused.json")).doesNotExist();
        assertThat(dir.resolve("memory.snap")).doesNotExist();
        QemuVmm restarted = freshVmm();
        assertThat(restarted.findPaused(vm.id())).isEmpty();
        assertThat(restarted.pausedAll()).extracting(PausedVm::id).doesNotContain(vm.id());
        assertThat(restarted.attach(vm.id())).isEmpty();
        TestVms.assertNothingLeft(vm.id(), pid);
        assertThat(ForkTest.layersOf("killed-mid-pause")).isEmpty();
    }

    @Test
    void everyHalfDoneStepIsFinishedOrUndoneByTheNextControlPlane() throws Exception {
        VmSpec spec = TestVms.spec("recovery", 1, MEM_MIB);
        Vm vm = TestVms.vmm().boot(spec);
        SnapshotTest.startCounter(vm);
        SnapshotTest.Counter counted = SnapshotTest.awaitCount(vm, 3);
        Path dir = vm.dir();

        // 1. The control plane dies after QEMU saved the memory, before the VMM ended: the VM is stopped.
        vm.close();
        try (QmpClient qmp = QmpClient.connect(dir.resolve("qmp.sock"), Duration.ofSeconds(10))) {
            qmp.execute("stop");
            qmp.execute("migrate", Map.of("uri", "exec:cat > " + dir.resolve("memory.snap.tmp")));
            VmPause.awaitMigration(qmp, "outgoing");
            assertThat(qmp.execute("query-status").path("status").asText()).isEqualTo("postmigrate");
        }
        QemuVmm restarted = freshVmm();
        assertThat(restarted.pausedAll()).extracting(PausedVm::id).doesNotContain(spec.id());
        vm = restarted.attach(spec.id()).orElseThrow();
        assertThat(dir.resolve("memory.snap.tmp")).as("the half-done pause's file").doesNotExist();
        assertThat(SnapshotTest.awaitCount(vm, counted.count() + 3).pid()).as("it runs on").isEqualTo(counted.pid());

        // 2. A pause that wrote its manifest but died before moving the disk into layers/.
        PausedVm paused = vm.pause();
        Path layer = Path.of(((QemuPausedVm) paused).manifest().layer());
        Files.move(layer, dir.resolve("overlay.qcow2"), StandardCopyOption.ATOMIC_MOVE);
        Optional<PausedVm> found = freshVmm().findPaused(spec.id());
        assertThat(found).isPresent();
        assertThat(layer).as("the move finished by recovery").exists();
        assertThat(dir.resolve("overlay.qcow2")).doesNotExist();

        // 3. A resume that started a VMM but died before committing (deleting the manifest): the VM stays paused.
        // (Simulated: the snapshot files a resume deletes on commit are put back under its running VMM.)
        byte[] manifest = Files.readAllBytes(dir.resolve("paused.json"));
        Files.copy(dir.resolve("memory.snap"), dir.resolve("memory.keep"));
        Vm resumed = freshVmm().resume(found.get());
        long strayPid = resumed.pid();
        resumed.close();
        Files.move(dir.resolve("memory.keep"), dir.resolve("memory.snap"));
        Files.write(dir.resolve("paused.json"), manifest);
        assertThat(freshVmm().attach(spec.id())).as("an unfinished resume is not a running VM").isEmpty();
        assertThat(new VmmProcess(strayPid, dir).isRunning()).isFalse();
        assertThat(dir.resolve("overlay.qcow2")).doesNotExist();
        PausedVm stillPaused = freshVmm().findPaused(spec.id()).orElseThrow();

        // Resumed for real by yet another control plane, it counts on; destroyed, it leaves nothing.
        vm = freshVmm().resume(stillPaused);
        assertThat(SnapshotTest.awaitCount(vm, counted.count() + 6).pid()).isEqualTo(counted.pid());
        long pid = vm.pid();
        paused = vm.pause();
        paused.destroy();
        TestVms.assertNothingLeft(spec.id(), pid);
        assertThat(ForkTest.layersOf("recovery")).isEmpty();
    }
}
