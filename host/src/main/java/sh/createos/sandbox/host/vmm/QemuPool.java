package sh.createos.sandbox.host.vmm;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;

/**
 * Pre-started QEMUs per template shape, each waiting on {@code -incoming defer} with its overlay made, its QMP
 * connected and {@code x-ignore-shared} set, so that a template restore served from here only renames the member's
 * directory to the VM's, issues {@code migrate-incoming} and configures the guest: QEMU's spawn and the overlay are
 * off the create path. A member is taken once ({@link #take} removes it) and the pool refills in the background, up
 * to {@code perShape} members for each of the {@link #MAX_SHAPES} most recently used shapes. {@link #close} kills
 * every member.
 *
 * <p>Members live in {@code <data>/pool/<member>/}, outside {@code vms/}. A claim renames that directory to
 * {@code vms/<id>/} and leaves a symbolic link in its place: QEMU opened the overlay by its first path and reopens
 * it by that name (the activation at the end of an incoming migration does), so the name must keep leading to it
 * for the VM's whole life. A link whose VM is gone, and a member directory that no live process's pool holds (a
 * crashed process's: a member's name carries its process's pid), are removed by {@link #sweep} when a pool starts and
 * on every refill.
 *
 * <p>The NIC: a sandbox's tap belongs to its network lease (named after the lease's slot, with the lease's address
 * and nft rules), which the server acquires for the VM id just before the create, so a member cannot own it. A
 * member starts with its virtio-net device on hub 0 with nothing else on it, exactly the backend of every VM without
 * a host NIC (so the device layout a snapshot needs is unchanged), and a claim hot-adds the lease's tap as a second
 * port of that hub ({@code netdev_add tap} + {@code netdev_add hubport}). The tap stays the lease's: released with
 * it, never created or deleted here.
 */
final class QemuPool implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(QemuPool.class);
    /** The id prefix of pool members; server VM ids start with {@code sb-}, templates' with {@code template-}. */
    static final String PREFIX = "pool-";
    /** Under the data directory. */
    static final String DIR = "pool";
    /** Members per shape: {@code 0} disables the pool. */
    static final String ENV = "CREATEOS_SANDBOX_POOL_SIZE";
    static final int DEFAULT_PER_SHAPE = 1;
    /** Shapes beyond the most recently used ones lose their members. */
    static final int MAX_SHAPES = 4;
    private static final Duration QEMU_START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    /** The tap hot-added on a claim, and the hub port that joins it to the device's hub. */
    static final String TAP_NETDEV = "tap0";
    private static final String TAP_HUBPORT = "net0-uplink";
    /** Member ids carry their process's pid: processes sharing a data directory never sweep each other's members. */
    private static final long OWNER = ProcessHandle.current().pid();
    /** Directories of the members of every pool of this process, from before their QEMU starts until claimed. */
    private static final Set<Path> MEMBERS = ConcurrentHashMap.newKeySet();

    /** Everything a member's command line depends on besides its own paths. */
    record Shape(String image, int vcpus, int memMib, int diskMib, GuestRam ram, Path backing) {}

    /** A QEMU waiting for its incoming state. */
    record Member(Shape shape, VmDirectory dir, VmmProcess process, QmpClient qmp) {}

    private final Path vmsDir;
    private final Path poolDir;
    private final GuestKit kit;
    private final Accelerator accelerator;
    private final DiskLayers layers;
    private final int perShape;
    /** Ready members per shape, the most recently used shape last. */
    private final LinkedHashMap<Shape, Deque<Member>> ready = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<Shape, Integer> starting = new ConcurrentHashMap<>();
    private final ExecutorService filler = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("qemu-pool").factory());
    private boolean closed;

    QemuPool(Path vmsDir, GuestKit kit, Accelerator accelerator, DiskLayers layers, int perShape) {
        if (perShape < 1) {
            throw new IllegalArgumentException("a pool holds at least 1 member per shape, not " + perShape);
        }
        this.vmsDir = vmsDir;
        this.poolDir = vmsDir.resolveSibling(DIR);
        this.kit = kit;
        this.accelerator = accelerator;
        this.layers = layers;
        this.perShape = perShape;
    }

    /** {@link #ENV} when set (a number ≥ 0), else {@link #DEFAULT_PER_SHAPE}. */
    static int sizeFromEnvironment() {
        String value = System.getenv(ENV);
        if (value == null || value.isBlank()) {
            return DEFAULT_PER_SHAPE;
        }
        try {
            int size = Integer.parseInt(value.strip());
            if (size >= 0) {
                return size;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(ENV + " must be a number of QEMUs per shape (0 disables the pool), not '"
                + value + "'");
    }

    /**
     * Removes links to VMs that are gone and member directories (with their QEMU) that no pool of this process holds:
     * what a crashed process or a destroyed pooled VM left in {@code <data>/pool/}.
     */
    static void sweep(Path poolDir) {
        try {
            for (Path entry : DiskLayers.list(poolDir)) {
                if (Files.isSymbolicLink(entry)) {
                    if (!Files.exists(entry)) {
                        Files.deleteIfExists(entry);
                    }
                } else if (!MEMBERS.contains(entry) && !ownedByAnotherLiveProcess(entry)) {
                    log.info("pool: removing {}, a pre-started QEMU of a pool that is gone", entry);
                    // By command line: its owner may have died before the QEMU wrote its pid file.
                    VmmProcess.killAllNaming(entry, KILL_WAIT);
                    remove(new VmDirectory(entry), null);
                }
            }
        } catch (IOException e) {
            log.warn("pool: cleaning up {}: {}", poolDir, e.getMessage());
        }
    }

    /**
     * Whether the member directory {@code entry} belongs to a pool of another process that is still running (a second
     * server or a parallel test JVM on the same data directory): its members are that process's to use and remove.
     */
    private static boolean ownedByAnotherLiveProcess(Path entry) {
        String[] parts = entry.getFileName().toString().split("-");
        if (parts.length != 3) {
            return false;
        }
        try {
            long owner = Long.parseLong(parts[1]);
            return owner != OWNER && ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * A ready member of {@code shape}, removed from the pool (never handed out twice); empty when there is none (the
     * caller starts its own QEMU). Either way the shape counts as used now and is refilled in the background.
     */
    Optional<Member> take(Shape shape) {
        Member taken = null;
        List<Member> dead = new ArrayList<>();
        List<Member> evicted = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return Optional.empty();
            }
            Deque<Member> members = ready.computeIfAbsent(shape, s -> new ArrayDeque<>());
            while (taken == null && !members.isEmpty()) {
                Member member = members.poll();
                if (member.process().isOurs() && member.qmp().isOpen()) {
                    taken = member;
                } else {
                    dead.add(member);
                }
            }
            while (ready.size() > MAX_SHAPES) {
                Map.Entry<Shape, Deque<Member>> eldest = ready.entrySet().iterator().next();
                evicted.addAll(eldest.getValue());
                ready.remove(eldest.getKey());
            }
            filler.execute(() -> fill(shape));
        }
        for (Member member : dead) {
            log.warn("pool member {} of {} died while waiting; removing it", member.dir().id(), shape.image());
            kill(member);
        }
        evicted.forEach(QemuPool::kill);
        if (taken != null) {
            log.debug("pool: {} serves a {} restore", taken.dir().id(), shape.image());
        }
        return Optional.ofNullable(taken);
    }

    /**
     * Makes {@code member} VM {@code spec.id()}: its directory is renamed to {@code vms/<id>/} (QEMU keeps its open
     * files and its listening sockets move with the directory), after it recorded where its QEMU was started so that
     * {@link VmmProcess} still recognizes it. On failure the member is killed and removed.
     */
    VmDirectory claim(Member member, VmSpec spec) throws IOException {
        VmDirectory target = new VmDirectory(vmsDir.resolve(spec.id()));
        try {
            target.checkSocketPaths();
            if (Files.exists(target.path())) {
                throw new FileAlreadyExistsException(target.path().toString(), null, "VM " + spec.id() + " already exists");
            }
            Files.writeString(member.dir().path().resolve(VmmProcess.STARTED_IN), member.dir().path().toString());
            Files.move(member.dir().path(), target.path(), StandardCopyOption.ATOMIC_MOVE);
            Files.createSymbolicLink(member.dir().path(), member.dir().path().getParent().relativize(target.path()));
            MEMBERS.remove(member.dir().path());
            return target;
        } catch (IOException | RuntimeException e) {
            kill(member);
            throw e;
        }
    }

    /** Joins the lease's tap to the hub the member's NIC is on: from now on the guest's packets reach the host. */
    static void attachTap(QmpClient qmp, VmNic nic) throws IOException {
        qmp.execute("netdev_add", Map.of("type", "tap", "id", TAP_NETDEV, "ifname", nic.tap(), "script", "no",
                "downscript", "no", "vnet_hdr", false));
        qmp.execute("netdev_add", Map.of("type", "hubport", "id", TAP_HUBPORT, "hubid", 0, "netdev", TAP_NETDEV));
    }

    /** Starts members of {@code shape} until it has {@link #perShape}; a start that fails ends this round. */
    private void fill(Shape shape) {
        sweep(poolDir);
        while (true) {
            synchronized (this) {
                Deque<Member> members = membersOf(shape);
                if (closed || members == null || members.size() >= perShape) {
                    return;
                }
            }
            Member member;
            try {
                member = start(shape);
            } catch (IOException | RuntimeException e) {
                log.warn("pool: starting a QEMU for {} failed; the next create of this shape tries again: {}",
                        shape.image(), e.getMessage());
                return;
            }
            boolean kept;
            synchronized (this) {
                Deque<Member> members = membersOf(shape);
                kept = !closed && members != null;
                if (kept) {
                    members.add(member);
                }
            }
            if (!kept) {
                kill(member);
                return;
            }
            log.debug("pool: {} ready for {}", member.dir().id(), shape.image());
        }
    }

    /** The ready members of {@code shape}, or null if it is no longer kept; not {@code get}, which counts as a use. */
    private Deque<Member> membersOf(Shape shape) {
        for (Map.Entry<Shape, Deque<Member>> entry : ready.entrySet()) {
            if (entry.getKey().equals(shape)) {
                return entry.getValue();
            }
        }
        return null;
    }

    private Member start(Shape shape) throws IOException {
        String id = PREFIX + OWNER + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(4);
        VmSpec spec = new VmSpec(id, shape.image(), shape.vcpus(), shape.memMib(), shape.diskMib(), "pool");
        VmDirectory dir = new VmDirectory(poolDir.resolve(id));
        dir.checkSocketPaths();
        Files.createDirectories(poolDir);
        MEMBERS.add(dir.path());
        Files.createDirectory(dir.path());
        VmmProcess process = null;
        QmpClient qmp = null;
        List<String> argv = List.of();
        try {
            dir.writeSpec(spec);
            layers.lock().lock();
            try {
                if (!Files.exists(shape.backing())) {
                    throw new IOException("disk layer " + shape.backing() + " does not exist");
                }
                DiskLayers.createOverlay(dir.overlay(), shape.backing());
            } finally {
                layers.lock().unlock();
            }
            argv = QemuCommandLine.forVm(spec, kit, dir, accelerator, null, shape.ram()).awaitingIncoming().argv();
            Command.Result qemu = Command.of(argv).timeout(QEMU_START_TIMEOUT).run();
            Files.writeString(dir.qemuLog(), qemu.stdout() + qemu.stderr());
            process = new VmmProcess(dir.readPid(), dir.path());
            if (process.pid() <= 0) {
                throw new IOException("qemu reported success but wrote no pid file " + dir.pidFile());
            }
            qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
            // The template was saved with x-ignore-shared, so its load needs it too; set now, off the create path.
            VmPause.ignoreShared(qmp);
            return new Member(shape, dir, process, qmp);
        } catch (IOException | RuntimeException e) {
            IOException failure = new IOException("pool member " + id + ": " + e.getMessage()
                    + (argv.isEmpty() ? "" : "\ncommand: " + String.join(" ", argv)), e);
            if (qmp != null) {
                qmp.close();
            }
            try {
                remove(dir, process);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
    }

    /** Kills every member and waits for members being started; the pool serves nothing afterwards. */
    @Override
    public void close() {
        List<Member> all = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            ready.values().forEach(all::addAll);
            ready.clear();
        }
        filler.shutdown();
        try {
            if (!filler.awaitTermination(QEMU_START_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS)) {
                log.warn("pool: a member still starting after {}; it is removed at the next start", QEMU_START_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        all.forEach(QemuPool::kill);
    }

    /** The ready members, over all shapes. */
    synchronized List<Member> members() {
        List<Member> all = new ArrayList<>();
        ready.values().forEach(all::addAll);
        return all;
    }

    private static void kill(Member member) {
        member.qmp().close();
        try {
            remove(member.dir(), member.process());
        } catch (IOException e) {
            log.warn("pool: removing member {}: {}", member.dir().id(), e.getMessage());
        }
    }

    private static void remove(VmDirectory dir, VmmProcess process) throws IOException {
        try {
            if (process != null) {
                process.kill();
                if (!process.awaitExit(KILL_WAIT)) {
                    throw new IOException("qemu pid " + process.pid() + " of " + dir.path() + " survived SIGKILL");
                }
            }
            dir.delete();
        } finally {
            MEMBERS.remove(dir.path());
        }
    }
}
