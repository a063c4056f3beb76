package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.net.Bandwidth;
import sh.createos.sandbox.host.net.EgressPolicy;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.Ipv4Cidr;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.host.net.SandboxIdentity;
import sh.createos.sandbox.host.net.SandboxLease;

/**
 * Template restores served by pre-started QEMUs ({@link QemuPool}): real VMs on a real host network. A create from the
 * pool has its own network (the lease's tap joined to the member's NIC), hostname and clock; a member serves one
 * create only; a later process still recognizes the renamed VM; closing the pool kills its members; a member a
 * crashed process left is removed by the next {@code attachAll}.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class QemuPoolTest {
    /** A memory size no other test uses, so that this test's template (and pool shape) is its own. */
    private static final int MEM_MIB = 232;
    private static final String RUN = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3);
    private static final Duration FILL_TIMEOUT = Duration.ofSeconds(90);

    private static ExternalHost outside;
    private static HostNetwork net;
    private static Path stateDir;

    @BeforeAll
    static void setUp() throws Exception {
        // Pools in 10.160-10.199, away from HostNetworkTest's and a server's defaults.
        int r = ThreadLocalRandom.current().nextInt(20);
        outside = ExternalHost.start(Map.of(), 140 + r);
        stateDir = Files.createTempDirectory("pooltest-");
        net = HostNetwork.open(new NetworkConfig(stateDir, "cp" + RUN, Ipv4Cidr.parse("10." + (160 + 2 * r) + ".0.0/16"),
                Ipv4Cidr.parse("10." + (161 + 2 * r) + ".0.0/16"), List.of(new InetSocketAddress(outside.address(2), 53)),
                0, List.of(Ipv4Cidr.parse("169.254.0.0/16")), "fc.local"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            TestVms.destroyLeftovers();
        } finally {
            try {
                if (net != null) {
                    net.destroy();
                }
            } finally {
                if (outside != null) {
                    outside.close();
                }
            }
        }
    }

    @Test
    void createsAreServedByPreStartedQemusEachOnceAndClosingThePoolKillsTheRest() throws Exception {
        QemuVmm vmm = new QemuVmm(TestVms.dataDir(), TestVms.kit(), TestVms.vmm().accelerator(), TestVms.BOOT_TIMEOUT,
                id -> net.nic(id));
        vmm.startPool(1);
        List<Vm> vms = new ArrayList<>();
        try {
            // The first create of the shape finds no member (and builds the template); the pool fills after it.
            Vm first = vmm.boot(TestVms.spec("pool-first", 1, MEM_MIB));
            vms.add(first);
            assertThat(first.start().steps().micros()).doesNotContainKey("pool claim");

            List<Long> servedBy = new ArrayList<>();
            for (String name : List.of("pool-second", "pool-third")) {
                QemuPool.Member member = awaitMember(vmm);
                VmSpec spec = TestVms.spec(name, 1, MEM_MIB);
                SandboxLease lease = net.acquire(spec.id(), new SandboxIdentity("sb_" + name + RUN, name),
                        EgressPolicy.OPEN, Bandwidth.UNMETERED);
                long before = System.currentTimeMillis() / 1000;
                Vm vm = vmm.boot(spec);
                vms.add(vm);

                assertThat(vm.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
                assertThat(vm.start().steps().micros()).containsKeys("pool claim", "tap attach", "memory load",
                        "agent hello", "configure").doesNotContainKeys("overlay", "qemu spawn");
                assertThat(vm.pid()).as("the member's QEMU runs the VM").isEqualTo(member.process().pid());
                assertThat(member.dir().path().toRealPath()).as("the member's directory became the VM's")
                        .isEqualTo(vm.dir().toRealPath());
                assertThat(Files.isSymbolicLink(member.dir().path())).as("its first path leads to it").isTrue();
                assertThat(vm.agent().hello().hostname()).isEqualTo(spec.hostname());
                assertThat(sh(vm, "hostname").stdout().strip()).isEqualTo(spec.hostname());
                long guestClock = Long.parseLong(sh(vm, "date +%s").stdout().strip());
                assertThat(guestClock).as("the guest's clock is the host's, not the template's")
                        .isBetween(before - 2, System.currentTimeMillis() / 1000 + 2);
                assertThat(sh(vm, "ip -4 addr").stdout()).contains(lease.address());
                ExecResult curl = sh(vm, "curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://"
                        + outside.address(2) + "/hello");
                assertThat(curl.stdout()).as("a request over the lease's tap: %s", curl.stderr()).isEqualTo("200");
                assertThat(servedBy).as("a member serves one create only").doesNotContain(vm.pid());
                servedBy.add(vm.pid());
            }

            // A later process (a restarted server) finds the renamed VM as its own.
            Vm pooled = vms.get(1);
            pooled.close();
            QemuVmm restarted = new QemuVmm(TestVms.dataDir(), TestVms.kit(), vmm.accelerator(), TestVms.BOOT_TIMEOUT);
            Vm attached = restarted.attach(pooled.id()).orElseThrow();
            assertThat(attached.pid()).isEqualTo(pooled.pid());
            vms.set(1, attached);

            QemuPool.Member waiting = awaitMember(vmm);
            vmm.closePool();
            assertThat(new VmmProcess(waiting.process().pid(), waiting.dir().path()).isRunning())
                    .as("the waiting member's QEMU").isFalse();
            assertThat(waiting.dir().path()).doesNotExist();
            Vm after = vmm.boot(TestVms.spec("pool-after", 1, MEM_MIB));
            vms.add(after);
            assertThat(after.start().steps().micros()).as("no pool: the create starts its own QEMU")
                    .containsKey("qemu spawn").doesNotContainKey("pool claim");
        } finally {
            vmm.closePool();
            for (Vm vm : vms) {
                if (vm.isAlive()) {
                    vm.destroy();
                }
            }
            for (String name : List.of("pool-second", "pool-third")) {
                net.release(TestVms.spec(name, 1, MEM_MIB).id());
            }
        }
    }

    @Test
    void aMemberThatACrashedProcessLeftAndALinkToAGoneVmAreRemovedByTheNextAttachAll() throws Exception {
        // A QEMU waiting on -incoming defer in a member directory no pool of this process holds, as a crashed server
        // leaves it, and the link a claimed member left for a VM that is gone.
        Path poolDir = TestVms.dataDir().resolve(QemuPool.DIR);
        VmDirectory dir = new VmDirectory(poolDir.resolve(QemuPool.PREFIX + RUN + "-crashed"));
        Files.createDirectories(dir.path());
        Path link = Files.createSymbolicLink(poolDir.resolve(QemuPool.PREFIX + RUN + "-gone"),
                Path.of("..", "vms", TestVms.RUN_PREFIX + "gone"));
        Path image = TestVms.kit().image(TestVms.IMAGE);
        Command.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", image.toString(), "-F",
                DiskLayers.isQcow2Image(image) ? "qcow2" : "raw", dir.overlay().toString()).run();
        VmSpec spec = new VmSpec(dir.id(), TestVms.IMAGE, 1, 128, TestVms.imageMib(), "pool");
        Command.of(QemuCommandLine.forVm(spec, TestVms.kit(), dir, TestVms.vmm().accelerator(), null).awaitingIncoming()
                .argv()).run();
        long pid = dir.readPid();
        try {
            assertThat(new VmmProcess(pid, dir.path()).isOurs()).isTrue();
            // As if its server died before QEMU wrote the pid file: the sweep finds the QEMU by its command line.
            Files.delete(dir.pidFile());
            new QemuVmm(TestVms.dataDir(), TestVms.kit(), TestVms.vmm().accelerator(), TestVms.BOOT_TIMEOUT).attachAll();
            assertThat(new VmmProcess(pid, dir.path()).isRunning()).as("the leftover member's QEMU").isFalse();
            assertThat(dir.path()).doesNotExist();
            assertThat(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)).as("the dangling link").isFalse();
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aMemberOfAnotherLiveProcessIsLeftAloneUntilThatProcessIsGone() throws Exception {
        // Member names carry their process's pid: a second server (or test JVM) on the same data directory keeps its
        // members while it lives. A sleep stands in for that process.
        Process owner = new ProcessBuilder("sleep", "600").start();
        Path poolDir = TestVms.dataDir().resolve(QemuPool.DIR);
        Path member = Files.createDirectories(poolDir.resolve(QemuPool.PREFIX + owner.pid() + "-" + "0123456789ab"));
        try {
            QemuVmm other = new QemuVmm(TestVms.dataDir(), TestVms.kit(), TestVms.vmm().accelerator(), TestVms.BOOT_TIMEOUT);
            other.attachAll();
            assertThat(member).as("a live process's member").exists();
            owner.destroyForcibly().waitFor();
            other.attachAll();
            assertThat(member).as("the member of a process that is gone").doesNotExist();
        } finally {
            owner.destroyForcibly();
        }
    }

    /** The one ready member of the pool, once the background refill has started it. */
    private static QemuPool.Member awaitMember(QemuVmm vmm) throws InterruptedException {
        long deadline = System.nanoTime() + FILL_TIMEOUT.toNanos();
        while (true) {
            List<QemuPool.Member> members = vmm.pool().members();
            if (!members.isEmpty()) {
                assertThat(members).hasSize(1);
                return members.getFirst();
            }
            assertThat(System.nanoTime()).as("the pool refilled within %s", FILL_TIMEOUT).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static ExecResult sh(Vm vm, String script) throws IOException {
        return vm.agent().run(ExecRequest.of("sh", "-c", script));
    }
}
