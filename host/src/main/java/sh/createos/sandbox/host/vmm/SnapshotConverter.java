package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;

/**
 * Turns a paused VM's full memory stream ({@code memory.snap}) into the form of a template: a RAM file {@code ram}
 * beside a device-state-only {@code device.snap}, so that its resume and every fork map the RAM copy-on-write
 * (share=off) instead of streaming it in. In the background, one conversion at a time per JVM, under {@code nice}:
 *
 * <ol>
 *   <li>in {@code <paused dir>/convert/}, a QEMU with the VM's device layout, RAM in a shared file, {@code -S} and
 *       {@code -incoming defer} (its vCPUs never run) loads the full stream, then saves with x-ignore-shared: device
 *       state only, the RAM being the file;
 *   <li>under the write side of the {@link #reading} lock (never {@link VmOperations}: {@code findPaused} takes
 *       a busy VM for absent), the files move into the paused directory, the manifest is renamed over the old one
 *       (the switch), and the full stream is deleted.
 * </ol>
 * A crash before the switch leaves the old form, after it the new; {@link #removeLeftovers} clears the rest at the
 * next open. A resume cancels a running conversion and loads the old form; a resume, a recovery and a fork hold
 * {@link #reading} until they have loaded (or checked) the snapshot, so the switch never changes it under them. The
 * RAM file is never written after the switch; it goes with the paused VM (its resume or destroy) while children
 * that map it keep the unlinked file.
 */
final class SnapshotConverter {
    private static final Logger log = LoggerFactory.getLogger(SnapshotConverter.class);
    private static final Duration QEMU_START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration KILL_WAIT = Duration.ofSeconds(10);
    /** How long the switch waits for forks that are loading the old form. */
    private static final Duration SWITCH_WAIT = Duration.ofSeconds(60);
    private static final long UNLIMITED_BANDWIDTH = 1L << 40;

    /** The converter of each enabled data directory, by its {@code vms/} directory. */
    private static final Map<Path, SnapshotConverter> ENABLED = new ConcurrentHashMap<>();
    /** One conversion at a time: it costs a full read of the stream and a write of the RAM file. */
    private static final ExecutorService QUEUE = Executors.newSingleThreadExecutor(Thread.ofPlatform()
            .name("snapshot-converter").daemon(true).priority(Thread.MIN_PRIORITY).factory());
    /** Conversions queued or running, by paused VM directory. */
    private static final Map<Path, Conversion> CONVERSIONS = new ConcurrentHashMap<>();
    private static final Map<Path, ReentrantReadWriteLock> FORMS = new ConcurrentHashMap<>();

    private final GuestKit kit;
    private final Accelerator accelerator;
    private final DiskLayers layers;

    SnapshotConverter(GuestKit kit, Accelerator accelerator, DiskLayers layers) {
        this.kit = kit;
        this.accelerator = accelerator;
        this.layers = layers;
    }

    /** One conversion: cancelled by a resume or destroy, done once its files are switched in or cleaned up. */
    private static final class Conversion {
        final CompletableFuture<Boolean> done = new CompletableFuture<>();
        volatile boolean cancelled;
        volatile VmmProcess qemu;

        void cancel() {
            cancelled = true;
            VmmProcess running = qemu;
            if (running != null) {
                running.kill();
            }
        }
    }

    static void enable(Path vmsDir, SnapshotConverter converter) {
        ENABLED.put(vmsDir, converter);
    }

    /**
     * Nothing of {@code vmsDir} is converted from now on: queued conversions do not start, and running ones are
     * cancelled and waited for (their QEMU killed, their files removed), so a server that stops leaves none running.
     * Their VMs stay full streams until a later start converts them.
     */
    static void disable(Path vmsDir) {
        ENABLED.remove(vmsDir);
        List<Conversion> ours = CONVERSIONS.entrySet().stream()
                .filter(e -> vmsDir.equals(e.getKey().getParent())).map(Map.Entry::getValue).toList();
        ours.forEach(Conversion::cancel);
        for (Conversion conversion : ours) {
            try {
                awaitDone(conversion, KILL_WAIT.multipliedBy(3));
            } catch (IOException e) {
                log.warn("stopping the snapshot conversions of {}: {}", vmsDir, e.getMessage());
            }
        }
    }

    /** Queues the conversion of the paused VM in {@code dir} if its data directory converts and it is a full stream. */
    static void submit(VmDirectory dir) {
        SnapshotConverter converter = ENABLED.get(dir.path().getParent());
        if (converter == null) {
            return;
        }
        Conversion conversion = new Conversion();
        if (CONVERSIONS.putIfAbsent(dir.path(), conversion) != null) {
            return;
        }
        QUEUE.execute(() -> {
            boolean switched = false;
            try {
                switched = converter.convert(dir, conversion);
            } catch (IOException | RuntimeException e) {
                log.warn("VM {}: converting its snapshot into a RAM file failed; it stays a full stream: {}", dir.id(),
                        e.getMessage());
            } finally {
                CONVERSIONS.remove(dir.path(), conversion);
                conversion.done.complete(switched);
            }
        });
    }

    /** Stops a conversion of {@code dir} without waiting: it cleans up after itself and never switches. */
    static void cancel(Path dir) {
        Conversion conversion = CONVERSIONS.get(dir);
        if (conversion != null) {
            conversion.cancel();
        }
    }

    /** Stops a conversion of {@code dir} and waits until it has removed its files. */
    static void cancelAndAwait(Path dir) throws IOException {
        Conversion conversion = CONVERSIONS.get(dir);
        if (conversion == null) {
            return;
        }
        conversion.cancel();
        awaitDone(conversion, MIGRATION_TIMEOUT);
    }

    /**
     * Waits for a queued or running conversion of {@code dir}; true if the snapshot is (then) a RAM file.
     */
    static boolean await(Path dir, Duration timeout) throws IOException {
        Conversion conversion = CONVERSIONS.get(dir);
        if (conversion != null) {
            awaitDone(conversion, timeout);
        }
        VmDirectory paused = new VmDirectory(dir);
        return paused.isPaused() && paused.readPaused().isRamFile();
    }

    private static boolean awaitDone(Conversion conversion, Duration timeout) throws IOException {
        try {
            return conversion.done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("a snapshot conversion did not end within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a snapshot conversion");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    /**
     * Locked (shared) by a resume, recovery or fork of {@code dir} until it has read or loaded the snapshot; the switch
     * of its form takes it exclusively. Returns the held lock, for the caller to unlock.
     */
    static Lock reading(Path dir) {
        Lock lock = FORMS.computeIfAbsent(dir, d -> new ReentrantReadWriteLock()).readLock();
        lock.lock();
        return lock;
    }

    /**
     * Removes what a conversion that is not running any more left in a paused VM's directory: its QEMU and work
     * directory, and the files of the form the manifest does not name. Call with {@link VmOperations} held.
     */
    static void removeLeftovers(VmDirectory dir, PausedManifest manifest) throws IOException {
        if (CONVERSIONS.containsKey(dir.path())) {
            return; // ours, in progress: it cleans up itself
        }
        VmDirectory work = new VmDirectory(dir.conversionDir());
        if (!Files.exists(work.path())) {
            // No conversion began here (it makes the directory before its QEMU): no /proc scan per paused VM at start.
            cleanForms(dir, manifest);
            return;
        }
        // By command line, not pid file: a process killed while its conversion's QEMU was starting left one that
        // had not written it yet, and that QEMU outlives the work directory removed here.
        List<Long> killed = VmmProcess.killAllNaming(work.path(), KILL_WAIT);
        if (!killed.isEmpty()) {
            log.info("VM {}: killed the qemu (pids {}) of a snapshot conversion that did not finish", dir.id(), killed);
        }
        work.delete();
        cleanForms(dir, manifest);
    }

    /** Deletes the files of the form the manifest does not name. */
    private static void cleanForms(VmDirectory dir, PausedManifest manifest) throws IOException {
        if (manifest.isRamFile()) {
            Files.deleteIfExists(dir.memorySnapshot()); // a crash right after the switch
        } else {
            Files.deleteIfExists(dir.deviceState()); // a crash between moving the files in and the switch
            Files.deleteIfExists(dir.ramFile());
        }
    }

    /** True if the snapshot was switched to the RAM file form. */
    private boolean convert(VmDirectory dir, Conversion conversion) throws IOException {
        if (conversion.cancelled) {
            return false; // cancelled while queued
        }
        PausedManifest manifest;
        Lock reading = reading(dir.path());
        try {
            if (!dir.isPaused()) {
                return false;
            }
            manifest = dir.readPaused();
            if (!PausedManifest.FULL_STREAM.equals(manifest.ramLayout())) {
                return false;
            }
            CpuIdentity.requireRestorable(manifest.cpu(), accelerator, manifest.spec().id());
        } finally {
            reading.unlock();
        }
        long started = System.nanoTime();
        VmDirectory work = new VmDirectory(dir.conversionDir());
        try {
            work.delete();
            work.checkSocketPaths();
            Files.createDirectory(work.path());
            loadAndSaveDeviceState(dir, work, manifest, conversion);
            long saved = System.nanoTime();
            if (!switchOver(dir, work, manifest, conversion)) {
                log.info("VM {}: snapshot conversion abandoned (resumed, destroyed or paused again meanwhile)", dir.id());
                return false;
            }
            log.info("VM {}: snapshot converted into a RAM file in {} ms (load + save {} ms)", dir.id(),
                    (System.nanoTime() - started) / 1_000_000, (saved - started) / 1_000_000);
            return true;
        } catch (IOException | RuntimeException e) {
            if (conversion.cancelled) {
                log.info("VM {}: snapshot conversion cancelled", dir.id());
                return false;
            }
            throw e;
        } finally {
            // By command line: a failure between starting the QEMU and reading its pid file would leave it running.
            try {
                VmmProcess.killAllNaming(work.path(), KILL_WAIT);
            } catch (IOException e) {
                log.warn("VM {}: the conversion's qemu: {}", dir.id(), e.getMessage());
            }
            try {
                work.delete();
            } catch (IOException e) {
                log.warn("VM {}: cannot remove {}: {}", dir.id(), work.path(), e.getMessage());
            }
        }
    }

    /** {@code work/ram} and {@code work/memory.snap.tmp} (device state) from the paused VM's full stream. */
    private void loadAndSaveDeviceState(VmDirectory dir, VmDirectory work, PausedManifest manifest, Conversion conversion)
            throws IOException {
        layers.lock().lock();
        try {
            if (!Files.exists(manifest.layerPath())) {
                throw new IOException("disk layer " + manifest.layerPath() + " does not exist");
            }
            // The VM's disk device needs a backend; nothing writes to it, the vCPUs never run.
            DiskLayers.createOverlay(work.overlay(), manifest.layerPath());
        } finally {
            layers.lock().unlock();
        }
        List<String> argv = new ArrayList<>(List.of("nice", "-n", "19"));
        argv.addAll(QemuCommandLine.forVm(manifest.spec(), kit, work, accelerator, null,
                GuestRam.sharedFileLoadingFullStream(work.ramFile())).awaitingIncoming().argv());
        argv.add("-S");
        Command.Result started = Command.of(argv).timeout(QEMU_START_TIMEOUT).run();
        Files.writeString(work.qemuLog(), started.stdout() + started.stderr());
        VmmProcess qemu = new VmmProcess(work.readPid(), work.path());
        if (qemu.pid() <= 0) {
            throw new IOException("qemu reported success but wrote no pid file " + work.pidFile() + "; command: "
                    + String.join(" ", argv));
        }
        conversion.qemu = qemu;
        if (conversion.cancelled) {
            throw new IOException("cancelled");
        }
        try (QmpClient qmp = QmpClient.connect(work.qmpSocket(), CONNECT_TIMEOUT)) {
            VmPause.ignoreShared(qmp, false);
            qmp.execute("migrate-incoming", Map.of("uri", QemuCommandLine.catUri(dir.memorySnapshot())));
            VmPause.awaitMigration(qmp, "incoming");
            qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", UNLIMITED_BANDWIDTH));
            VmPause.ignoreShared(qmp, true);
            try (MigrationReceiver receiver = MigrationReceiver.listen(work.migrationSocket(), work.memoryTmp())) {
                qmp.execute("migrate", Map.of("uri", receiver.uri()));
                VmPause.awaitMigration(qmp, "outgoing");
                receiver.awaitEnd(MIGRATION_TIMEOUT);
            }
            TestSeam.reached(TestSeam.CONVERSION_SAVED);
            try {
                qmp.execute("quit");
            } catch (IOException e) {
                log.debug("conversion of {}: QMP quit: {}", dir.id(), e.getMessage()); // may close before answering
            }
        }
        if (!qemu.awaitExit(KILL_WAIT)) {
            qemu.kill();
            if (!qemu.awaitExit(KILL_WAIT)) {
                throw new IOException("conversion qemu pid " + qemu.pid() + " survived SIGKILL");
            }
        }
        // QEMU wrote the RAM through a shared mapping: on disk before the switch names the file.
        try (FileChannel ram = FileChannel.open(work.ramFile(), StandardOpenOption.WRITE)) {
            ram.force(true);
        }
    }

    /** Moves the new form in and renames the manifest over the old one; false if the VM is no longer as it was. */
    private boolean switchOver(VmDirectory dir, VmDirectory work, PausedManifest manifest, Conversion conversion)
            throws IOException {
        Lock exclusive = FORMS.computeIfAbsent(dir.path(), d -> new ReentrantReadWriteLock()).writeLock();
        try {
            if (!exclusive.tryLock(SWITCH_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for forks to load");
        }
        try {
            if (conversion.cancelled || !dir.isPaused() || !dir.readPaused().equals(manifest)) {
                return false;
            }
            long deviceBytes = Files.size(work.memoryTmp());
            Files.move(work.ramFile(), dir.ramFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.move(work.memoryTmp(), dir.deviceState(), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            dir.writePaused(manifest.converted(deviceBytes));
            Files.delete(dir.memorySnapshot());
            return true;
        } finally {
            exclusive.unlock();
        }
    }
}
