package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;

/**
 * Boots VMs as QEMU {@code microvm} machines, one detached qemu-system-x86_64 process and one {@code vms/<id>/}
 * directory each, and re-attaches to them from a later JVM.
 */
public final class QemuVmm implements Vmm {
    private static final Logger log = LoggerFactory.getLogger(QemuVmm.class);
    private static final long MIB = 1024 * 1024;
    private static final Duration DEFAULT_BOOT_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration QEMU_START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration LIVENESS_POLL = Duration.ofMillis(100);

    private final Path vmsDir;
    private final GuestKit kit;
    private final Accelerator accelerator;
    private final Duration bootTimeout;

    public QemuVmm(Path dataDir, GuestKit kit, Accelerator accelerator, Duration bootTimeout) {
        this.vmsDir = dataDir.toAbsolutePath().normalize().resolve("vms");
        this.kit = kit;
        this.accelerator = accelerator;
        this.bootTimeout = bootTimeout;
    }

    /** The data directory of {@code CREATEOS_SANDBOX_DATA_DIR}, its guest kit, KVM if usable, default timeout. */
    public static QemuVmm fromEnvironment() throws IOException {
        Path dataDir = DataDir.fromEnvironment();
        return new QemuVmm(dataDir, GuestKit.load(dataDir), Accelerator.detect(), DEFAULT_BOOT_TIMEOUT);
    }

    @Override
    public String name() {
        return "qemu";
    }

    public Accelerator accelerator() {
        return accelerator;
    }

    @Override
    public Vm boot(VmSpec spec) throws IOException {
        Path base = kit.image(spec.image());
        long baseMib = (Files.size(base) + MIB - 1) / MIB;
        if (spec.diskMib() < baseMib) {
            throw new IllegalArgumentException("VM " + spec.id() + ": a disk of " + spec.diskMib() + " MiB is smaller"
                    + " than image " + spec.image() + " (" + baseMib + " MiB)");
        }
        VmDirectory dir = new VmDirectory(vmsDir.resolve(spec.id()));
        dir.checkSocketPaths();
        Files.createDirectories(vmsDir);
        try {
            Files.createDirectory(dir.path());
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(dir.path().toString(), null, "VM " + spec.id() + " already exists");
        }
        long started = System.nanoTime();
        String step = "starting";
        VmmProcess process = null;
        QmpClient qmp = null;
        try {
            step = "writing " + dir.specFile();
            dir.writeSpec(spec);
            step = "creating the disk overlay";
            long overlayStarted = System.nanoTime();
            Command.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw",
                    dir.overlay().toString(), spec.diskMib() + "M").timeout(QEMU_IMG_TIMEOUT).run();
            long qemuStarted = System.nanoTime();
            step = "starting qemu";
            List<String> argv = QemuCommandLine.forVm(spec, kit, dir, accelerator).argv();
            Command.Result qemu = Command.of(argv).timeout(QEMU_START_TIMEOUT).run();
            Files.writeString(dir.qemuLog(), qemu.stdout() + qemu.stderr());
            process = new VmmProcess(dir.readPid(), dir.path());
            if (process.pid() <= 0) {
                throw new IOException("qemu reported success but wrote no pid file " + dir.pidFile());
            }
            long qemuUp = System.nanoTime();
            step = "connecting to QMP";
            qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
            step = "waiting for the agent's HELLO";
            AgentClient agent = awaitAgent(dir, process, remaining(started));
            long ready = System.nanoTime();
            log.info("VM {} booted in {} ms (pid {}, {}; overlay {} ms, qemu start {} ms, QMP + agent ready {} ms)",
                    spec.id(), millis(started, ready), process.pid(), accelerator, millis(overlayStarted, qemuStarted),
                    millis(qemuStarted, qemuUp), millis(qemuUp, ready));
            return new QemuVm(spec, dir, process, qmp, agent,
                    new VmStart(VmStart.Kind.COLD_BOOT, Duration.ofNanos(ready - started)));
        } catch (IOException | RuntimeException e) {
            String console = dir.consoleTail();
            if (qmp != null) {
                qmp.close();
            }
            VmBootException failure = new VmBootException("boot of VM " + spec.id() + " failed while " + step + ": " + e.getMessage()
                    + "\n--- console.log (tail) ---\n" + console, e);
            try {
                removeLeftovers(dir, process);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
    }

    @Override
    public Optional<Vm> attach(String id) throws IOException {
        VmDirectory dir = new VmDirectory(vmsDir.resolve(VmSpec.checkId(id)));
        if (!Files.isDirectory(dir.path())) {
            return Optional.empty();
        }
        VmmProcess process = new VmmProcess(dir.readPid(), dir.path());
        if (!process.isOurs()) {
            if (isBooting(dir)) {
                return Optional.empty();
            }
            log.info("VM {} is not running; removing its leftovers {}", id, dir.path());
            removeLeftovers(dir, process);
            return Optional.empty();
        }
        VmSpec spec = dir.readSpec();
        QmpClient qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
        try {
            AgentClient agent = AgentClient.connect(dir.agentSocket(), CONNECT_TIMEOUT);
            return Optional.of(new QemuVm(spec, dir, process, qmp, agent, new VmStart(VmStart.Kind.ATTACHED, Duration.ZERO)));
        } catch (IOException | RuntimeException e) {
            qmp.close();
            throw new IOException("VM " + id + " (pid " + process.pid() + ") is running but its agent did not answer: "
                    + e.getMessage() + "\n--- console.log (tail) ---\n" + dir.consoleTail(), e);
        }
    }

    @Override
    public Vm resume(PausedVm paused) throws IOException {
        throw new UnsupportedOperationException("resume: not implemented yet");
    }

    @Override
    public Vm fork(PausedVm source, VmSpec child) throws IOException {
        throw new UnsupportedOperationException("fork: not implemented yet");
    }

    @Override
    public Optional<PausedVm> findPaused(String id) throws IOException {
        return Optional.empty();
    }

    @Override
    public List<PausedVm> pausedAll() throws IOException {
        return List.of();
    }

    /** Attaches every live VM; one that is running but cannot be reached is logged and left alone. */
    @Override
    public List<Vm> attachAll() throws IOException {
        if (!Files.isDirectory(vmsDir)) {
            return List.of();
        }
        List<String> ids;
        try (Stream<Path> dirs = Files.list(vmsDir)) {
            ids = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
        List<Vm> vms = new ArrayList<>();
        for (String id : ids) {
            try {
                attach(id).ifPresent(vms::add);
            } catch (IOException | IllegalArgumentException e) {
                log.warn("cannot attach VM {}: {}", id, e.getMessage());
            }
        }
        return vms;
    }

    /**
     * Connects to the agent on a virtual thread while watching QEMU: a VMM that dies during boot fails the boot at
     * once instead of after the whole timeout.
     */
    private static AgentClient awaitAgent(VmDirectory dir, VmmProcess process, Duration timeout) throws IOException {
        CompletableFuture<AgentClient> connected = new CompletableFuture<>();
        Thread connector = Thread.ofVirtual().name("agent-connect " + dir.id()).start(() -> {
            try {
                connected.complete(AgentClient.connect(dir.agentSocket(), timeout));
            } catch (Throwable e) {
                connected.completeExceptionally(e);
            }
        });
        try {
            while (true) {
                try {
                    return connected.get(LIVENESS_POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (!process.isOurs()) {
                        throw new IOException("qemu (pid " + process.pid() + ") exited before the agent answered");
                    }
                }
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().toString(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the agent of VM " + dir.id());
        } finally {
            if (!connected.isDone()) {
                connector.interrupt();
                connected.thenAccept(AgentClient::close);
            }
        }
    }

    /** A directory without a live VMM that is younger than a boot is probably being booted by another process. */
    private boolean isBooting(VmDirectory dir) throws IOException {
        if (Files.exists(dir.pidFile())) {
            return false;
        }
        Instant modified = Files.getLastModifiedTime(dir.path()).toInstant();
        return modified.plus(bootTimeout).plus(QEMU_START_TIMEOUT).isAfter(Instant.now());
    }

    private static void removeLeftovers(VmDirectory dir, VmmProcess process) throws IOException {
        VmmProcess vmm = process != null ? process : new VmmProcess(readPidQuietly(dir), dir.path());
        vmm.kill();
        vmm.awaitExit(Duration.ofSeconds(10));
        dir.delete();
    }

    private static long readPidQuietly(VmDirectory dir) {
        try {
            return dir.readPid();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1_000_000;
    }

    private Duration remaining(long startedNanos) {
        Duration left = bootTimeout.minusNanos(System.nanoTime() - startedNanos);
        return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
    }
}
