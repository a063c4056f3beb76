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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Lock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.GuestConfiguration;
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
    private static final Duration INCOMING_POLL = Duration.ofMillis(20);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private final Path dataDir;
    private final Path vmsDir;
    private final GuestKit kit;
    private final Accelerator accelerator;
    private final Duration bootTimeout;
    private final DiskLayers layers;
    /** Null: every boot is a cold boot. */
    private final Templates templates;
    /** Images registered after the kit was loaded (built templates), by name; shared with {@link #withoutTemplates}. */
    private final BuiltImages builtImages;
    private final OciImages ociImages;

    /** Where each VM's NIC comes from (the host's networking, or none). */
    private final NicSource nics;
    /** Pre-started QEMUs for template restores; null: none (see {@link #startPool}). */
    private volatile QemuPool pool;

    /** Boots through templates (see {@link #boot}); VMs get a NIC without connectivity. */
    public QemuVmm(Path dataDir, GuestKit kit, Accelerator accelerator, Duration bootTimeout) {
        this(dataDir, kit, accelerator, bootTimeout, true, NicSource.NONE);
    }

    /** Boots through templates; every VM with a NIC from {@code nics} is connected and configured through it. */
    public QemuVmm(Path dataDir, GuestKit kit, Accelerator accelerator, Duration bootTimeout, NicSource nics) {
        this(dataDir, kit, accelerator, bootTimeout, true, nics);
    }

    private QemuVmm(Path dataDir, GuestKit kit, Accelerator accelerator, Duration bootTimeout, boolean useTemplates,
                    NicSource nics) {
        this(dataDir, kit, accelerator, bootTimeout, useTemplates, nics, new BuiltImages(dataDir));
    }

    private QemuVmm(Path dataDir, GuestKit kit, Accelerator accelerator, Duration bootTimeout, boolean useTemplates,
                    NicSource nics, BuiltImages builtImages) {
        this.builtImages = builtImages;
        this.ociImages = new OciImages(dataDir, builtImages);
        this.nics = nics;
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.vmsDir = this.dataDir.resolve("vms");
        this.kit = kit;
        this.accelerator = accelerator;
        this.bootTimeout = bootTimeout;
        this.layers = new DiskLayers(this.dataDir);
        this.templates = useTemplates ? new Templates(this.dataDir, this, kit, accelerator, layers) : null;
    }

    /** The same engine with every boot a cold boot (no template is built or restored). */
    public QemuVmm withoutTemplates() {
        return new QemuVmm(dataDir, kit, accelerator, bootTimeout, false, nics, builtImages);
    }

    /**
     * From now on every paused VM of this data directory (each new pause, and those {@link #pausedAll} finds) is
     * converted in the background into a RAM file beside its device state, so that its resume and forks map its
     * memory instead of streaming it (see {@link SnapshotConverter}). Returns this engine.
     */
    public QemuVmm convertingPausedSnapshots() {
        SnapshotConverter.enable(vmsDir, new SnapshotConverter(kit, accelerator, layers));
        return this;
    }

    /** Stops converting paused VMs of this data directory: one in progress is cancelled and cleaned up. */
    public void stopConvertingPausedSnapshots() {
        SnapshotConverter.disable(vmsDir);
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

    /**
     * Keeps {@code perShape} pre-started QEMUs for each recently used template shape (see {@link QemuPool}); 0 or a
     * VMM without templates keeps none. Replaces (and closes) a pool started before.
     */
    public void startPool(int perShape) {
        QemuPool old = pool;
        QemuPool.sweep(dataDir.resolve(QemuPool.DIR));
        pool = perShape > 0 && templates != null ? new QemuPool(vmsDir, kit, accelerator, layers, perShape) : null;
        if (old != null) {
            old.close();
        }
    }

    /** {@link #startPool} with {@code CREATEOS_SANDBOX_POOL_SIZE} (default 1 per shape). */
    public void startPoolFromEnvironment() {
        startPool(QemuPool.sizeFromEnvironment());
    }

    /** Kills every pre-started QEMU; creates start their own from now on. */
    public void closePool() {
        QemuPool old = pool;
        pool = null;
        if (old != null) {
            old.close();
        }
    }

    /** The pool, or null. */
    QemuPool pool() {
        return pool;
    }

    @Override
    public Vm boot(VmSpec spec) throws IOException {
        int baseMib = imageMib(spec.image());
        if (spec.diskMib() < baseMib) {
            throw new IllegalArgumentException("VM " + spec.id() + ": a disk of " + spec.diskMib() + " MiB is smaller"
                    + " than image " + spec.image() + " (" + baseMib + " MiB)");
        }
        if (templates != null) {
            Optional<Vm> restored = templates.restore(spec, baseMib);
            if (restored.isPresent()) {
                return restored.get();
            }
        }
        return coldBoot(spec);
    }

    /** The file of image {@code name}: the kit's, or a built one's. @throws IllegalArgumentException if unknown */
    public Path image(String name) {
        Path built = builtImages.file(name);
        return built != null ? built : kit.image(name);
    }

    /** Whether {@code name} is an image of the kit or a registered built image. */
    public boolean hasImage(String name) {
        return kit.images().containsKey(name) || builtImages.file(name) != null;
    }

    /** Base images pulled from OCI registries (registered among the built images). */
    public OciImages ociImages() {
        return ociImages;
    }

    /** The built images (template results): export, registration, removal once unused. */
    public BuiltImages builtImages() {
        return builtImages;
    }

    /**
     * Writes the paused VM's disk as the read-only built image {@code name} (see {@link BuiltImages#export}) and
     * registers it: from then on {@code name} boots like a kit image. Returns its size in bytes.
     */
    public long exportImage(PausedVm paused, String name) throws IOException {
        QemuPausedVm ours = ours(paused);
        if (!ours.directory().isPaused()) {
            throw new IllegalStateException("VM " + paused.id() + " is not paused");
        }
        return builtImages.export(ours, image(ours.spec().image()), name);
    }

    /** Unregisters built image {@code name} and removes every retired image file nothing rests on any more. */
    public void retireImage(String name) throws IOException {
        builtImages.retire(name);
        sweepImages();
    }

    /**
     * Removes template snapshots of images that are gone (once no VM rests on them), then every retired built image
     * that no disk chain (VM overlays, paused VMs, template snapshots, registered built images) reaches.
     */
    public void sweepImages() throws IOException {
        if (templates != null) {
            templates.removeStale();
        }
        layers.lock().lock();
        try {
            for (Path file : builtImages.retiredFiles()) {
                if (!layers.isReachable(file, builtImages.registeredFiles())) {
                    builtImages.delete(file);
                }
            }
        } finally {
            layers.lock().unlock();
        }
    }

    Path vmDirectory(String id) {
        return vmsDir.resolve(id);
    }

    /** The virtual size of image {@code image} in MiB (a VM's disk must hold it). */
    public int imageMib(String image) throws IOException {
        Path file = image(image);
        long bytes = DiskLayers.isQcow2Image(file) ? Qcow2Header.read(file).virtualSize() : Files.size(file);
        return (int) ((bytes + MIB - 1) / MIB);
    }

    /** Boots {@code spec} from its kernel, whatever templates exist. */
    Vm coldBoot(VmSpec spec) throws IOException {
        return coldBoot(spec, GuestRam.ANONYMOUS);
    }

    /** Boots {@code spec} from its kernel with its RAM in {@code ram}. */
    Vm coldBoot(VmSpec spec, GuestRam ram) throws IOException {
        Path base = image(spec.image());
        VmDirectory dir = createDirectory(spec);
        StartTimings timings = StartTimings.startingNow();
        long started = timings.startedNanos();
        String step = "starting";
        VmmProcess process = null;
        QmpClient qmp = null;
        List<String> argv = List.of();
        try {
            step = "writing " + dir.specFile();
            dir.writeSpec(spec);
            step = "creating the disk overlay";
            Command.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F",
                    DiskLayers.isQcow2Image(base) ? "qcow2" : "raw",
                    dir.overlay().toString(), spec.diskMib() + "M").timeout(QEMU_IMG_TIMEOUT).run();
            timings.step("overlay");
            step = "starting qemu";
            VmNic nic = nics.nic(spec.id()).orElse(null);
            argv = QemuCommandLine.forVm(spec, kit, dir, accelerator, nic, ram).argv();
            Command.Result qemu = Command.of(argv).timeout(QEMU_START_TIMEOUT).run();
            Files.writeString(dir.qemuLog(), qemu.stdout() + qemu.stderr());
            process = new VmmProcess(dir.readPid(), dir.path());
            if (process.pid() <= 0) {
                throw new IOException("qemu reported success but wrote no pid file " + dir.pidFile());
            }
            timings.step("qemu spawn");
            step = "connecting to QMP";
            qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
            timings.step("qmp connect");
            step = "waiting for the agent's HELLO";
            AgentClient agent = awaitAgent(dir, process, remaining(started));
            timings.step("kernel boot + agent hello");
            if (nic != null) {
                step = "configuring the guest's network";
                configureNetwork(agent, nic);
                timings.step("configure");
            }
            long ready = System.nanoTime();
            log.info("VM {} booted in {} ms (pid {}, {}; {})", spec.id(), millis(started, ready), process.pid(),
                    accelerator, timings);
            return new QemuVm(spec, dir, process, qmp, agent,
                    new VmStart(VmStart.Kind.COLD_BOOT, Duration.ofNanos(ready - started), timings), layers);
        } catch (IOException | RuntimeException e) {
            String console = dir.consoleTail();
            if (qmp != null) {
                qmp.close();
            }
            VmBootException failure = new VmBootException("boot of VM " + spec.id() + " failed while " + step + ": " + e.getMessage()
                    + "\naccelerator: " + accelerator + (argv.isEmpty() ? "" : "\ncommand: " + String.join(" ", argv))
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
        if (!Files.isDirectory(dir.path()) || !VmOperations.begin(dir.path())) {
            return Optional.empty();
        }
        try {
            return attachRecovered(dir);
        } finally {
            VmOperations.end(dir.path());
        }
    }

    private Optional<Vm> attachRecovered(VmDirectory dir) throws IOException {
        String id = dir.id();
        if (id.startsWith(Templates.VM_PREFIX) && Templates.isBuilding(dir.path())) {
            return Optional.empty(); // a build under way, here or in another process: neither ours to attach nor to remove
        }
        if (recover(dir) != DirState.RUNNING) {
            return Optional.empty();
        }
        if (id.startsWith(Templates.VM_PREFIX)) {
            log.info("removing {}, the VM of a template build that did not finish", id);
            removeLeftovers(dir, new VmmProcess(dir.readPid(), dir.path()));
            return Optional.empty();
        }
        VmmProcess process = new VmmProcess(dir.readPid(), dir.path());
        VmSpec spec = dir.readSpec();
        QmpClient qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
        try {
            rollBackUnfinishedPause(dir, qmp);
            AgentClient agent = AgentClient.connect(dir.agentSocket(), CONNECT_TIMEOUT);
            return Optional.of(new QemuVm(spec, dir, process, qmp, agent, new VmStart(VmStart.Kind.ATTACHED, Duration.ZERO),
                    layers));
        } catch (IOException | RuntimeException e) {
            qmp.close();
            throw new IOException("VM " + id + " (pid " + process.pid() + ") is running but its agent did not answer: "
                    + e.getMessage() + "\n--- console.log (tail) ---\n" + dir.consoleTail(), e);
        }
    }

    @Override
    public void discard(String id) throws IOException {
        VmDirectory dir = new VmDirectory(vmsDir.resolve(VmSpec.checkId(id)));
        if (!Files.isDirectory(dir.path())) {
            return;
        }
        if (!VmOperations.begin(dir.path())) {
            throw new IllegalStateException("VM " + id + " is being worked on by this process");
        }
        try {
            VmmProcess process = new VmmProcess(readPidQuietly(dir), dir.path());
            if (dir.isPaused() || (process.isOurs() && !neverStarted(dir))) {
                throw new IllegalStateException("VM " + id + " is " + (dir.isPaused() ? "paused" : "running")
                        + "; destroy it instead");
            }
            log.info("VM {} never came up; removing its leftovers {}", id, dir.path());
            removeLeftovers(dir, process);
        } finally {
            VmOperations.end(dir.path());
        }
        layers.collectGarbage();
    }

    @Override
    public void forceDestroy(String id) throws IOException {
        VmDirectory dir = new VmDirectory(vmsDir.resolve(VmSpec.checkId(id)));
        if (!Files.isDirectory(dir.path())) {
            return;
        }
        if (!VmOperations.begin(dir.path())) {
            throw new IllegalStateException("VM " + id + " is being worked on by this process");
        }
        try {
            if (dir.isPaused()) {
                return;
            }
            VmmProcess process = new VmmProcess(readPidQuietly(dir), dir.path());
            if (process.isOurs()) {
                log.info("VM {}: killing its qemu (pid {}) without asking it", id, process.pid());
                process.kill();
                if (!process.awaitExit(KILL_WAIT)) {
                    throw new IOException("VM " + id + ": qemu pid " + process.pid() + " survived SIGKILL; "
                            + dir.path() + " is left in place");
                }
            }
            log.info("VM {}: removing {}", id, dir.path());
            dir.delete();
        } finally {
            VmOperations.end(dir.path());
        }
        layers.collectGarbage();
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
        QemuPool.sweep(dataDir.resolve(QemuPool.DIR));
        layers.collectGarbage();
        return vms;
    }

    /** What a VM directory holds once {@link #recover} has finished or undone whatever a crash left half done. */
    private enum DirState { RUNNING, PAUSED, GONE, BUSY }

    /** Call with {@link VmOperations} held for the directory. */
    private DirState recover(VmDirectory dir) throws IOException {
        VmmProcess process = new VmmProcess(dir.readPid(), dir.path());
        if (dir.isPaused()) {
            return recoverPaused(dir, process);
        }
        if (process.isOurs()) {
            return DirState.RUNNING;
        }
        if (isBooting(dir)) {
            return DirState.BUSY;
        }
        log.info("VM {} is not running; removing its leftovers {}", dir.id(), dir.path());
        removeLeftovers(dir, process);
        return DirState.GONE;
    }

    /**
     * A manifest means paused. A live VMM beside it is a resume that did not finish (the resume deletes the
     * manifest last): it is killed and its overlay dropped. A crash between the manifest and the move of the
     * disk is finished here. A snapshot missing its memory or disk is removed.
     */
    private DirState recoverPaused(VmDirectory dir, VmmProcess process) throws IOException {
        if (process.isOurs()) {
            log.info("VM {}: a resume did not finish; killing its qemu (pid {}), the VM stays paused", dir.id(), process.pid());
            process.kill();
            if (!process.awaitExit(KILL_WAIT)) {
                throw new IOException("VM " + dir.id() + ": qemu pid " + process.pid() + " survived SIGKILL");
            }
        }
        PausedManifest manifest;
        // The read side of a conversion's switch: the manifest and the files it names are checked as one.
        Lock reading = SnapshotConverter.reading(dir.path());
        layers.lock().lock();
        try {
            manifest = dir.readPaused();
            VmPause.finishDisk(dir, manifest);
            SnapshotConverter.removeLeftovers(dir, manifest);
            List<Path> needed = manifest.isRamFile()
                    ? List.of(dir.deviceState(), dir.ramFile(), manifest.layerPath())
                    : List.of(dir.memorySnapshot(), manifest.layerPath());
            Optional<Path> missing = needed.stream().filter(file -> !Files.exists(file)).findFirst();
            if (missing.isEmpty()) {
                return DirState.PAUSED;
            }
            log.warn("VM {}: its snapshot lacks {}; removing it", dir.id(), missing.get());
            Files.deleteIfExists(dir.pausedManifest());
            dir.delete();
            return DirState.GONE;
        } finally {
            layers.lock().unlock();
            reading.unlock();
        }
    }

    /** A running VM with pause leftovers (a crash mid-pause): cancel the migration, run the vCPUs, drop the files. */
    private static void rollBackUnfinishedPause(VmDirectory dir, QmpClient qmp) throws IOException {
        // A kill while the manifest was being written leaves it half-written beside the memory file.
        Path manifestTmp = dir.pausedManifest().resolveSibling(dir.pausedManifest().getFileName() + ".tmp");
        boolean leftovers = Files.exists(dir.memoryTmp()) || Files.exists(dir.memorySnapshot())
                || Files.exists(dir.migrationSocket()) || Files.exists(manifestTmp);
        String status = qmp.execute("query-status").path("status").asText();
        if (leftovers || !status.equals("running")) {
            log.info("VM {}: rolling back an unfinished pause (status {}); it runs on", dir.id(), status);
            VmPause.resumeVcpus(qmp);
            Files.deleteIfExists(dir.memoryTmp());
            Files.deleteIfExists(dir.memorySnapshot());
            Files.deleteIfExists(dir.migrationSocket());
            Files.deleteIfExists(manifestTmp);
        }
    }

    @Override
    public Optional<PausedVm> findPaused(String id) throws IOException {
        VmDirectory dir = new VmDirectory(vmsDir.resolve(VmSpec.checkId(id)));
        if (!dir.isPaused() || !VmOperations.begin(dir.path())) {
            return Optional.empty();
        }
        try {
            return recover(dir) == DirState.PAUSED
                    ? Optional.of(new QemuPausedVm(dir, dir.readPaused(), layers))
                    : Optional.empty();
        } finally {
            VmOperations.end(dir.path());
        }
    }

    @Override
    public List<PausedVm> pausedAll() throws IOException {
        List<PausedVm> paused = new ArrayList<>();
        for (Path path : DiskLayers.list(vmsDir)) {
            VmDirectory dir = new VmDirectory(path);
            String id = dir.id();
            if (id.startsWith(Templates.VM_PREFIX) && Templates.isBuilding(path)) {
                continue;
            }
            try {
                Optional<PausedVm> vm = findPaused(id);
                if (vm.isPresent() && id.startsWith(Templates.VM_PREFIX)) {
                    log.info("removing {}, a template build that did not finish", id);
                    vm.get().destroy();
                } else {
                    vm.ifPresent(paused::add);
                    vm.ifPresent(found -> SnapshotConverter.submit(dir));
                }
            } catch (IOException | IllegalArgumentException e) {
                log.warn("cannot recover paused VM {}: {}", id, e.getMessage());
            }
        }
        if (templates != null) {
            templates.removeStale();
        }
        layers.collectGarbage();
        return paused;
    }

    @Override
    public Vm resume(PausedVm paused) throws IOException {
        QemuPausedVm ours = ours(paused);
        VmDirectory dir = ours.directory();
        if (!VmOperations.begin(dir.path())) {
            throw new IllegalStateException("VM " + paused.id() + " is busy with another pause, resume or recovery");
        }
        Lock reading = null;
        try {
            if (!dir.isPaused()) {
                throw new IllegalStateException("VM " + paused.id() + " is not paused");
            }
            // A conversion still running would finish for nothing: the resume loads the form the manifest names.
            SnapshotConverter.cancel(dir.path());
            reading = SnapshotConverter.reading(dir.path());
            PausedManifest manifest = dir.readPaused();
            CpuIdentity.requireRestorable(manifest.cpu(), accelerator, paused.id());
            StartTimings timings = StartTimings.startingNow();
            QemuVm vm;
            try {
                vm = restore(manifest.spec(), dir, manifest.memory(dir), manifest.restoreRam(dir), manifest.layerPath(),
                        VmStart.Kind.RESUME, timings, null);
            } catch (IOException | RuntimeException e) {
                dir.deleteRuntimeFiles();
                throw e;
            }
            // Deleting the manifest commits the resume; its layer now backs the new overlay.
            Files.delete(dir.pausedManifest());
            Files.deleteIfExists(dir.memorySnapshot());
            // The resumed QEMU (and any fork) maps the RAM file: unlinked, it lives on as long as they do.
            Files.deleteIfExists(dir.deviceState());
            Files.deleteIfExists(dir.ramFile());
            ChainFlattener.flattenIfDeep(vm, layers);
            return vm;
        } finally {
            if (reading != null) {
                reading.unlock();
            }
            VmOperations.end(dir.path());
        }
    }

    @Override
    public Vm fork(PausedVm source, VmSpec child) throws IOException {
        QemuPausedVm ours = ours(source);
        VmSpec parent = ours.spec();
        if (!child.image().equals(parent.image()) || child.vcpus() != parent.vcpus() || child.memMib() != parent.memMib()) {
            throw new IllegalArgumentException("fork " + child.id() + " of " + parent.id() + ": image, vcpus and memMib"
                    + " must be the source's (" + parent.image() + ", " + parent.vcpus() + ", " + parent.memMib() + ")");
        }
        if (child.diskMib() < parent.diskMib()) {
            throw new IllegalArgumentException("fork " + child.id() + " of " + parent.id() + ": a disk of "
                    + child.diskMib() + " MiB is smaller than the source's " + parent.diskMib() + " MiB");
        }
        if (!ours.directory().isPaused()) {
            throw new IllegalStateException("VM " + parent.id() + " is not paused");
        }
        // Held until the fork has loaded: a conversion does not switch the snapshot's form under it meanwhile.
        Lock reading = SnapshotConverter.reading(ours.directory().path());
        try {
            PausedManifest manifest = ours.directory().readPaused();
            CpuIdentity.requireRestorable(manifest.cpu(), accelerator, parent.id());
            return restoreNew(child, parent.diskMib(), manifest.memory(ours.directory()),
                    manifest.restoreRam(ours.directory()), manifest.layerPath(), VmStart.Kind.FORK);
        } finally {
            reading.unlock();
        }
    }

    /**
     * A new VM {@code spec} restored from {@code memory} with an overlay on {@code backing} of {@code backingMib},
     * its disk then grown to the spec's size. On failure nothing of it is left.
     */
    Vm restoreNew(VmSpec spec, int backingMib, Path memory, GuestRam ram, Path backing, VmStart.Kind kind) throws IOException {
        StartTimings timings = StartTimings.startingNow();
        QemuPool servedBy = kind == VmStart.Kind.TEMPLATE_RESTORE ? pool : null;
        QemuPool.Member pooled = servedBy == null ? null : servedBy.take(new QemuPool.Shape(spec.image(), spec.vcpus(),
                spec.memMib(), backingMib, ram, backing)).orElse(null);
        VmDirectory dir = pooled != null ? servedBy.claim(pooled, spec) : createDirectory(spec);
        timings.step(pooled != null ? "pool claim" : "directory");
        VmOperations.begin(dir.path());
        try {
            VmSpec restored = spec.withDiskMib(backingMib);
            dir.writeSpec(restored);
            QemuVm vm = restore(restored, dir, memory, ram, backing, kind, timings, pooled);
            try {
                try {
                    vm.resizeDisk(spec.diskMib());
                } catch (FilesystemNotGrownException e) {
                    // The image's trait, not a broken snapshot: the VM runs with the filesystem it has.
                    log.info("{}", e.getMessage());
                }
                timings.step("disk grow");
                ChainFlattener.flattenIfDeep(vm, layers);
            } catch (IOException | RuntimeException e) {
                vm.destroy();
                throw new SnapshotException(kind + " of VM " + spec.id() + " failed while growing its disk: " + e.getMessage(), e);
            }
            log.debug("VM {} {} steps: {}", spec.id(), kind, timings);
            return vm.withStart(new VmStart(kind, Duration.ofNanos(System.nanoTime() - timings.startedNanos()), timings));
        } catch (IOException | RuntimeException e) {
            try {
                dir.delete();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            layers.collectGarbage();
            throw e;
        } finally {
            VmOperations.end(dir.path());
        }
    }

    /**
     * Starts a VMM in {@code dir} from a saved memory state and a new overlay on {@code backing} (or takes over
     * {@code pooled}, a pre-started one already in {@code dir} with its overlay), then sets the guest's hostname and
     * clock. On failure the VMM is killed (its files stay for the caller to remove).
     */
    private QemuVm restore(VmSpec spec, VmDirectory dir, Path memory, GuestRam ram, Path backing, VmStart.Kind kind,
                           StartTimings timings, QemuPool.Member pooled)
            throws IOException {
        String step = "creating the disk overlay";
        VmmProcess process = null;
        QmpClient qmp = null;
        AgentClient agent = null;
        try {
            VmNic nic = nics.nic(spec.id()).orElse(null);
            boolean deferred;
            if (pooled != null) {
                process = new VmmProcess(pooled.process().pid(), dir.path());
                qmp = pooled.qmp();
                deferred = true;
                if (nic != null) {
                    step = "attaching tap " + nic.tap();
                    QemuPool.attachTap(qmp, nic);
                    timings.step("tap attach");
                }
            } else {
                layers.lock().lock();
                try {
                    if (!Files.exists(backing)) {
                        throw new IOException("disk layer " + backing + " does not exist");
                    }
                    DiskLayers.createOverlay(dir.overlay(), backing);
                } finally {
                    layers.lock().unlock();
                }
                timings.step("overlay");
                step = "starting qemu";
                QemuCommandLine commandLine = QemuCommandLine.forVm(spec, kit, dir, accelerator, nic, ram);
                deferred = ram.kind() != GuestRam.Kind.LEGACY;
                Command.Result qemu = Command.of((deferred ? commandLine.awaitingIncoming() : commandLine.restoringFrom(memory)).argv())
                        .timeout(QEMU_START_TIMEOUT).run();
                Files.writeString(dir.qemuLog(), qemu.stdout() + qemu.stderr());
                process = new VmmProcess(dir.readPid(), dir.path());
                if (process.pid() <= 0) {
                    throw new IOException("qemu exited right after starting from " + memory
                            + " (it wrote no pid file): the saved state did not load");
                }
                timings.step("qemu spawn");
                step = "loading memory from " + memory;
                qmp = QmpClient.connect(dir.qmpSocket(), CONNECT_TIMEOUT);
                timings.step("qmp connect");
                if (deferred && ram.loadsIgnoringShared()) {
                    // A save with x-ignore-shared needs a load with it: the stream carries each block's address (a
                    // pool member, which serves only template restores, has it set already).
                    VmPause.ignoreShared(qmp);
                }
            }
            step = "loading memory from " + memory;
            if (deferred) {
                qmp.execute("migrate-incoming", Map.of("uri", QemuCommandLine.catUri(memory)));
            }
            awaitIncoming(qmp, process);
            timings.step("memory load");
            step = "waiting for the agent's HELLO";
            agent = awaitAgent(dir, process, remaining(timings.startedNanos()));
            timings.step("agent hello");
            step = "setting the guest's hostname, clock and network";
            // The agent answers once all of it is applied.
            agent.configure(GuestConfiguration.identity(spec.hostname(), Instant.now())
                    .withNetwork(nic == null ? null : nic.network()));
            timings.step("configure");
            // A new session, so that hello() reports the guest as it is now (its new hostname). (Without it, CI twice
            // saw an exec of a restored VM go unanswered for a minute; the cause is not yet understood.)
            agent.close();
            agent = AgentClient.connect(dir.agentSocket(), CONNECT_TIMEOUT);
            timings.step("new session");
            log.info("VM {} restored ({}{}) in {} ms (pid {}; {})", spec.id(), kind, pooled != null ? ", pre-started qemu" : "",
                    timings.totalMillis(), process.pid(), timings);
            return new QemuVm(spec, dir, process, qmp, agent,
                    new VmStart(kind, Duration.ofNanos(System.nanoTime() - timings.startedNanos()), timings), layers);
        } catch (IOException | RuntimeException e) {
            String console = dir.consoleTail();
            if (agent != null) {
                agent.close();
            }
            if (qmp != null) {
                qmp.close();
            }
            SnapshotException failure = new SnapshotException(kind + " of VM " + spec.id() + " failed while " + step + ": "
                    + e.getMessage() + "\n--- console.log (tail) ---\n" + console, e);
            VmmProcess vmm = process != null ? process : new VmmProcess(readPidQuietly(dir), dir.path());
            vmm.kill();
            if (!vmm.awaitExit(KILL_WAIT)) {
                failure.addSuppressed(new IOException("qemu pid " + vmm.pid() + " survived SIGKILL"));
            }
            throw failure;
        }
    }

    /** Waits until QEMU has loaded the incoming state and runs the vCPUs; a failed load ends QEMU. */
    private void awaitIncoming(QmpClient qmp, VmmProcess process) throws IOException {
        long deadline = System.nanoTime() + bootTimeout.toNanos();
        while (true) {
            String status = qmp.execute("query-status").path("status").asText();
            if (status.equals("running")) {
                return;
            }
            // The pause stopped the vCPUs before saving, and QEMU restores that run state: start them.
            if (status.equals("paused") && qmp.execute("query-migrate").path("status").asText().equals("completed")) {
                qmp.execute("cont");
                continue;
            }
            if (!status.equals("inmigrate") && !status.equals("prelaunch")) {
                String migration = qmp.execute("query-migrate").toString();
                throw new IOException("after loading the snapshot the VM is " + status + " (migration: " + migration + ")");
            }
            if (!process.isOurs()) {
                throw new IOException("qemu (pid " + process.pid() + ") exited while loading the snapshot");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the snapshot did not load within " + bootTimeout);
            }
            try {
                Thread.sleep(INCOMING_POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while loading a snapshot");
            }
        }
    }

    private static QemuPausedVm ours(PausedVm paused) {
        if (!(paused instanceof QemuPausedVm ours)) {
            throw new IllegalArgumentException("not a paused VM of QemuVmm: " + paused);
        }
        return ours;
    }

    /** Creates {@code vms/<id>/}; fails if it exists. */
    private VmDirectory createDirectory(VmSpec spec) throws IOException {
        VmDirectory dir = new VmDirectory(vmsDir.resolve(spec.id()));
        dir.checkSocketPaths();
        Files.createDirectories(vmsDir);
        try {
            Files.createDirectory(dir.path());
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(dir.path().toString(), null, "VM " + spec.id() + " already exists");
        }
        return dir;
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

    /** The guest's network after a cold boot (a restore sends it with hostname and clock). */
    private static void configureNetwork(AgentClient agent, VmNic nic) throws IOException {
        agent.configure(GuestConfiguration.network(nic.network()));
    }

    /** A directory without a live VMM that is younger than a boot is probably being booted by another process. */
    private boolean isBooting(VmDirectory dir) throws IOException {
        if (Files.exists(dir.pidFile())) {
            return false;
        }
        Instant modified = Files.getLastModifiedTime(dir.path()).toInstant();
        return modified.plus(bootTimeout).plus(QEMU_START_TIMEOUT).isAfter(Instant.now());
    }

    /**
     * Whether a live VMM never ran its guest: it still waits for the incoming state (a restore from a pre-started
     * {@code -incoming defer} QEMU whose driver died before {@code migrate-incoming}) or never left prelaunch. Such a
     * VMM can never come up on its own, so {@link #discard} removes it like any other leftover.
     */
    private static boolean neverStarted(VmDirectory dir) {
        try (QmpClient qmp = QmpClient.connect(dir.qmpSocket(), Duration.ofSeconds(5))) {
            String status = qmp.execute("query-status").path("status").asText();
            return status.equals("inmigrate") || status.equals("prelaunch");
        } catch (IOException e) {
            return false; // cannot tell: leave it to destroy
        }
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
