package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Many forks of one paused VM, forks of forks, disk chains that stay short, and nothing left after the last destroy. */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ForkTest {
    private static final int MEM_MIB = 256;
    private static final int FORKS = 10;
    private static PausedVm source;

    @BeforeAll
    static void pauseASource() throws Exception {
        Vm vm = TestVms.vmm().boot(TestVms.spec("fork-src", 1, MEM_MIB));
        SnapshotTest.write(vm, "/root/origin.txt", "from the source");
        source = vm.pause();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try {
            if (source != null) {
                source.destroy();
                assertThat(source.dir()).doesNotExist();
                assertThat(layersOf("fork-src")).as("the source's layer, with no fork left").isEmpty();
            }
        } finally {
            TestVms.destroyLeftovers();
        }
    }

    @Test
    void tenForksOfOnePausedVmRunAtOnceEachWithItsOwnName() throws Exception {
        List<Future<Vm>> started = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < FORKS; i++) {
                VmSpec child = TestVms.spec("fork-" + i, 1, MEM_MIB);
                started.add(pool.submit(() -> TestVms.vmm().fork(source, child)));
            }
        }
        List<Vm> forks = new ArrayList<>();
        for (Future<Vm> fork : started) {
            forks.add(fork.get());
        }
        try {
            for (int i = 0; i < FORKS; i++) {
                Vm fork = forks.get(i);
                assertThat(fork.isAlive()).isTrue();
                assertThat(SnapshotTest.run(fork, "hostname").strip()).isEqualTo(TestVms.RUN_PREFIX + "fork-" + i);
                // A tmpfs file bound over it at boot, rewritten by configure: not the parent's, not on the disk.
                assertThat(SnapshotTest.run(fork, "cat", "/etc/hostname")).isEqualTo(TestVms.RUN_PREFIX + "fork-" + i + "\n");
                assertThat(SnapshotTest.run(fork, "cat", "/root/origin.txt")).isEqualTo("from the source");
                SnapshotTest.write(fork, "/root/mine.txt", "fork " + i);
            }
            for (int i = 0; i < FORKS; i++) {
                assertThat(SnapshotTest.run(forks.get(i), "cat", "/root/mine.txt")).as("no cross-talk").isEqualTo("fork " + i);
            }
        } finally {
            for (Vm fork : forks) {
                fork.destroy();
            }
        }
        assertThat(source.dir().resolve("paused.json")).as("the source stays paused").exists();
    }

    @Test
    void forksOfForksKeepEveryAncestorsFilesAndTheirDiskChainsStayShort() throws Exception {
        PausedVm parent = source;
        List<PausedVm> generations = new ArrayList<>();
        Vm last = null;
        for (int generation = 1; generation <= ChainFlattener.MAX_LAYERS + 2; generation++) {
            last = TestVms.vmm().fork(parent, TestVms.spec("gen-" + generation, 1, MEM_MIB));
            SnapshotTest.write(last, "/root/gen-" + generation + ".txt", "generation " + generation);
            awaitFlattened(last);
            if (generation < ChainFlattener.MAX_LAYERS + 2) {
                parent = last.pause();
                generations.add(parent);
            }
        }
        for (int generation = 1; generation <= ChainFlattener.MAX_LAYERS + 2; generation++) {
            assertThat(SnapshotTest.run(last, "cat", "/root/gen-" + generation + ".txt")).isEqualTo("generation " + generation);
        }
        assertThat(SnapshotTest.run(last, "cat", "/root/origin.txt")).isEqualTo("from the source");
        assertThat(DiskLayers.backingLayers(last.dir().resolve("overlay.qcow2"))).isLessThanOrEqualTo(ChainFlattener.MAX_LAYERS);

        String lastId = last.id();
        last.destroy();
        for (PausedVm generation : generations) {
            generation.destroy();
        }
        assertThat(layersOf("gen-")).as("layers of destroyed generations").isEmpty();
        assertThat(TestVms.dataDir().resolve("vms").resolve(lastId)).doesNotExist();
    }

    @Test
    void aDestroyedPausedParentsLayerLivesAsLongAsAForkRestsOnIt() throws Exception {
        Vm child = TestVms.vmm().fork(source, TestVms.spec("keep-parent", 1, MEM_MIB));
        SnapshotTest.write(child, "/root/parent.txt", "written by the parent");
        PausedVm parent = child.pause();
        VmSpec larger = TestVms.spec("keep-child", 1, MEM_MIB);
        larger = larger.withDiskMib(larger.diskMib() + 64);
        Vm grandchild = TestVms.vmm().fork(parent, larger);
        try {
            assertThat(Long.parseLong(SnapshotTest.run(grandchild, "blockdev", "--getsize64", "/dev/vda").strip()))
                    .as("a fork's larger disk").isEqualTo(larger.diskMib() * 1024L * 1024);
            parent.destroy();
            assertThat(parent.dir()).doesNotExist();
            assertThat(layersOf("keep-parent")).as("the parent's layer, still needed by its fork").hasSize(1);
            // Read from the disk, not the guest's page cache: the data lives in the destroyed parent's layer.
            SnapshotTest.run(grandchild, "sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches");
            assertThat(SnapshotTest.run(grandchild, "cat", "/root/parent.txt")).isEqualTo("written by the parent");
        } finally {
            grandchild.destroy();
        }
        assertThat(layersOf("keep-")).as("with the last fork gone, nothing refers to them").isEmpty();
    }

    @Test
    void aForkMustMatchTheSourcesMachineAndLeavesNothingWhenRejected() {
        VmSpec moreMemory = TestVms.spec("fork-bigger", 1, MEM_MIB * 2);
        assertThatThrownBy(() -> TestVms.vmm().fork(source, moreMemory))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memMib");
        VmSpec sameId = new VmSpec(source.id(), TestVms.IMAGE, 1, MEM_MIB, source.spec().diskMib(), "same");
        assertThatThrownBy(() -> TestVms.vmm().fork(source, sameId)).isInstanceOf(IOException.class)
                .hasMessageContaining("already exists");
        assertThat(TestVms.dataDir().resolve("vms").resolve(moreMemory.id())).doesNotExist();
        assertThat(source.dir().resolve("paused.json")).exists();
    }

    /** Waits for a flattening job that the restore may have started. */
    private static void awaitFlattened(Vm vm) throws Exception {
        Path overlay = vm.dir().resolve("overlay.qcow2");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (DiskLayers.backingLayers(overlay) > ChainFlattener.MAX_LAYERS) {
            assertThat(System.nanoTime()).as("flattening of %s", overlay).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** The layers of this run's VMs whose id starts with {@code name}. */
    static List<Path> layersOf(String name) throws IOException {
        Path layers = TestVms.dataDir().resolve("layers");
        if (!Files.isDirectory(layers)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(layers)) {
            return files.filter(f -> f.getFileName().toString().startsWith(TestVms.RUN_PREFIX + name)).toList();
        }
    }
}
