package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;

/**
 * Pause, resume and fork of one VM and its descendants, in order: each step builds on the VM the previous one left,
 * because every TCG boot or restore costs seconds. At most two VMs run at once.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotTest {
    /** A process that holds a counter in memory only and reports it (and its pid) to a file every 100 ms. */
    private static final String COUNTER = """
            import os, time
            n = 0
            while True:
                n += 1
                with open('/run/counter.tmp', 'w') as f:
                    f.write('%d %d' % (os.getpid(), n))
                os.replace('/run/counter.tmp', '/run/counter')
                time.sleep(0.1)
            """;
    private static final int MEM_MIB = 256;

    private static Vm vm;
    private static PausedVm paused;

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    @Order(1)
    void aPausedVmKeepsCountingFromWhereItWasAfterResumeWithItsFilesAndTheRightClock() throws Exception {
        vm = TestVms.vmm().boot(TestVms.spec("snap", 1, MEM_MIB));
        long firstPid = vm.pid();
        assertThat(vm.start().kind()).as("a create restores the image's template").isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
        assertThat(vm.start().restored()).isTrue();
        assertThat(vm.agent().hello().hostname()).isEqualTo(vm.spec().hostname());
        // The template's disk has the image's size; the VM's disk and filesystem were grown to its spec.
        assertThat(Long.parseLong(run(vm, "blockdev", "--getsize64", "/dev/vda").strip()))
                .isEqualTo(vm.spec().diskMib() * 1024L * 1024);
        long rootMib = Long.parseLong(run(vm, "sh", "-c", "df -m --output=size / | tail -1").strip());
        assertThat(rootMib).isGreaterThan(TestVms.imageMib() + 128);
        write(vm, "/root/before.txt", "written before the pause");
        startCounter(vm);
        Counter before = awaitCount(vm, 5);

        paused = vm.pause();

        assertThat(new VmmProcess(firstPid, vm.dir()).isRunning()).as("qemu after pause").isFalse();
        assertThat(TestVms.processesMentioning(paused.dir())).isEmpty();
        assertThat(paused.id()).isEqualTo(vm.id());
        assertThat(paused.dir().resolve("paused.json")).exists();
        assertThat(paused.memoryBytes()).isPositive();
        assertThat(paused.diskLayerBytes()).isPositive();
        assertThat(paused.snapshotBytes()).isEqualTo(paused.memoryBytes() + paused.diskLayerBytes());
        assertThatThrownBy(() -> vm.agent().ping()).isInstanceOf(IOException.class);

        Thread.sleep(11_000); // a pause longer than 10 s: the guest's clock must not lag behind by it

        vm = TestVms.vmm().resume(paused);

        assertThat(vm.start().kind()).isEqualTo(VmStart.Kind.RESUME);
        assertThat(vm.id()).isEqualTo(paused.id());
        assertThat(paused.dir().resolve("paused.json")).doesNotExist();
        long guestSeconds = Long.parseLong(run(vm, "date", "+%s").strip());
        assertThat(guestSeconds).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(3L));
        Counter after = awaitCount(vm, before.count() + 3);
        assertThat(after.pid()).as("the same process").isEqualTo(before.pid());
        assertThat(after.count()).as("counted on from %d, not from 0", before.count())
                .isGreaterThan(before.count()).isLessThan(before.count() + 100);
        assertThat(run(vm, "cat", "/root/before.txt")).isEqualTo("written before the pause");
        assertThat(vm.agent().hello().hostname()).isEqualTo(vm.spec().hostname());
    }

    @Test
    @Order(2)
    void aSnapshotTakenOnAnotherCpuIsRefusedAndStaysWhole() throws Exception {
        paused = vm.pause();
        Path manifest = paused.dir().resolve("paused.json");
        String original = Files.readString(manifest);
        ObjectNode recorded = (ObjectNode) new ObjectMapper().readTree(original);
        assertThat(recorded.path("cpu").asText()).as("the CPU it ran on")
                .isEqualTo(CpuIdentity.of(TestVms.vmm().accelerator()));
        recorded.put("cpu", "kvm cpu=host (QEMU emulator version 0.1) host=Another CPU/0123456789abcdef");
        Files.writeString(manifest, recorded.toString());

        assertThatThrownBy(() -> TestVms.vmm().resume(paused)).isInstanceOf(SnapshotIncompatibleException.class)
                .hasMessageContaining("Another CPU");
        assertThatThrownBy(() -> TestVms.vmm().fork(paused, TestVms.spec("snap-cpu", 1, MEM_MIB)))
                .isInstanceOf(SnapshotIncompatibleException.class);
        assertThat(TestVms.processesMentioning(paused.dir())).as("no VMM was started").isEmpty();

        Files.writeString(manifest, original);
        vm = TestVms.vmm().resume(paused);
        assertThat(run(vm, "cat", "/root/before.txt")).isEqualTo("written before the pause");
    }

    @Test
    @Order(3)
    void aForkSeesTheParentsMemoryAndFilesThenBothDiverge() throws Exception {
        Counter parentCount = awaitCount(vm, 1);
        paused = vm.pause();
        VmSpec childSpec = TestVms.spec("snap-child", 1, MEM_MIB);

        Vm child = TestVms.vmm().fork(paused, childSpec);
        try {
            assertThat(child.start().kind()).isEqualTo(VmStart.Kind.FORK);
            assertThat(run(child, "hostname").strip()).isEqualTo(childSpec.hostname());
            assertThat(run(child, "cat", "/root/before.txt")).isEqualTo("written before the pause");
            Counter childCount = awaitCount(child, parentCount.count() + 2);
            assertThat(childCount.pid()).as("the parent's process, forked with its memory").isEqualTo(parentCount.pid());
            assertThat(childCount.count()).isLessThan(parentCount.count() + 100);
            assertThat(paused.dir().resolve("paused.json")).as("the source stays paused").exists();

            vm = TestVms.vmm().resume(paused);
            write(vm, "/root/parent-only.txt", "parent");
            write(child, "/root/child-only.txt", "child");

            assertThat(exists(vm, "/root/child-only.txt")).isFalse();
            assertThat(exists(child, "/root/parent-only.txt")).isFalse();
            assertThat(run(vm, "hostname").strip()).isEqualTo(vm.spec().hostname());
        } finally {
            child.destroy();
        }
        assertThat(layersOf(childSpec.id())).isEmpty();
    }

    @Test
    @Order(4)
    void withoutTemplatesACreateIsAColdBootAndSaysSo() throws Exception {
        Vm cold = TestVms.vmm().withoutTemplates().boot(TestVms.spec("snap-cold", 1, MEM_MIB));
        try {
            assertThat(cold.start().kind()).isEqualTo(VmStart.Kind.COLD_BOOT);
            assertThat(cold.start().restored()).isFalse();
            assertThat(cold.start().took()).isPositive();
            assertThat(run(cold, "hostname").strip()).isEqualTo(cold.spec().hostname());
        } finally {
            cold.destroy();
        }
    }

    @Test
    @Order(5)
    void aProcessInARestoredGuestCanAskToBePaused() throws Exception {
        java.util.concurrent.LinkedBlockingQueue<sh.createos.sandbox.host.agent.SelfSignal> signals =
                new java.util.concurrent.LinkedBlockingQueue<>();
        try (var watch = vm.agent().watch(signals::add)) {
            String status = run(vm, "python3", "-c", """
                    import urllib.request
                    request = urllib.request.Request('http://127.0.0.1:1029/self/pause?reason=done', method='POST')
                    print(urllib.request.urlopen(request).status)
                    """);
            assertThat(status.strip()).isEqualTo("202");
            assertThat(signals.poll(30, TimeUnit.SECONDS)).isEqualTo(new sh.createos.sandbox.host.agent.SelfSignal("pause", "done"));
        }
        vm.destroy();
    }

    private static boolean exists(Vm target, String path) throws IOException {
        return target.agent().run(ExecRequest.of("test", "-e", path)).exitCode() == 0;
    }

    private static List<Path> layersOf(String id) throws IOException {
        Path layers = TestVms.dataDir().resolve("layers");
        if (!Files.isDirectory(layers)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(layers)) {
            return files.filter(f -> f.getFileName().toString().startsWith(id + "-")).toList();
        }
    }

    record Counter(long pid, long count) {}

    static void startCounter(Vm target) throws IOException {
        write(target, "/root/counter.py", COUNTER);
        ExecResult started = target.agent().run(ExecRequest.of("sh", "-c",
                "nohup setsid python3 /root/counter.py >/dev/null 2>&1 &"));
        assertThat(started.exitCode()).isZero();
    }

    /** Waits until the counter has reached {@code atLeast}. */
    static Counter awaitCount(Vm target, long atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            ExecResult read = target.agent().run(ExecRequest.of("cat", "/run/counter"));
            if (read.exitCode() == 0) {
                String[] fields = read.stdout().strip().split(" ");
                Counter counter = new Counter(Long.parseLong(fields[0]), Long.parseLong(fields[1]));
                if (counter.count() >= atLeast) {
                    return counter;
                }
            }
            assertThat(System.nanoTime()).as("counter reaching %d", atLeast).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    static void write(Vm target, String path, String content) throws IOException {
        target.agent().writeFile(path, new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), 0644);
    }

    static String run(Vm target, String... argv) throws IOException {
        ExecResult result = target.agent().run(ExecRequest.of(argv));
        assertThat(result.exitCode()).as("%s: %s", String.join(" ", argv), result.stderr()).isZero();
        return result.stdout();
    }
}
