package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of {@link QemuVm#pause()}, in the order that keeps a crash harmless: memory into a temporary file,
 * renamed once complete; the manifest {@code paused.json} is renamed into place (from here on the VM is paused);
 * the VMM ends; the overlay moves to {@code <data>/layers/}. Before the manifest exists, a failure rolls the VM back
 * to running (or, if its VMM died, leaves a dead VM that recovery removes).
 */
final class VmPause {
    private static final Logger log = LoggerFactory.getLogger(VmPause.class);
    private static final Duration POLL = Duration.ofMillis(20);
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration BLOCK_JOB_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration QUIT_GRACE = Duration.ofSeconds(10);
    /** QEMU's default throttles a migration to 128 MiB/s; a paused VM should be saved as fast as the disk takes it. */
    private static final long UNLIMITED_BANDWIDTH = 1L << 40;

    private VmPause() {}

    static QemuPausedVm pause(QemuVm vm, DiskLayers layers) throws IOException {
        VmDirectory dir = vm.directory();
        QmpClient qmp = vm.qmp();
        long started = System.nanoTime();
        String step = "waiting for disk flattening to finish";
        try {
            awaitBlockJobs(qmp);
            step = "stopping the vCPUs";
            qmp.execute("stop");
            step = "saving memory and device state";
            List<String> argv = commandLine(vm);
            boolean ramBackend = argv.stream().anyMatch(arg -> arg.contains("memory-backend=" + GuestRam.BACKEND_ID));
            // Only RAM in a shared file is left out of the stream (a template build). Private RAM, even a
            // copy-on-write mapping of a file, is saved in full and without the capability, so that the stream can
            // later be loaded into a RAM file (SnapshotConverter).
            boolean sharedRam = ramBackend && argv.stream().anyMatch(arg -> arg.startsWith("memory-backend-file,")
                    && arg.endsWith(",share=on"));
            long memoryBytes = saveMemory(qmp, dir, sharedRam);
            long saved = System.nanoTime();
            // Paused from the manifest on, even with the VMM still there: a crash from here is finished by recovery
            // (which kills a VMM beside a manifest), never lost. The completed migration has flushed the disk.
            step = "writing " + dir.pausedManifest();
            Path layer = layers.newLayer(vm.id());
            PausedManifest manifest = new PausedManifest(vm.spec(), layer.toString(), System.currentTimeMillis(), memoryBytes,
                    !ramBackend ? null : sharedRam ? PausedManifest.RAM_BACKEND : PausedManifest.FULL_STREAM,
                    CpuIdentity.of(argv));
            dir.writePaused(manifest);
            step = "ending the VMM";
            vm.agent().close();
            quit(vm);
            step = "moving the disk to " + layer;
            finishDisk(dir, manifest);
            log.info("VM {} paused in {} ms (memory {} MiB saved in {} ms)", vm.id(), (System.nanoTime() - started) / 1_000_000,
                    memoryBytes >> 20, (saved - started) / 1_000_000);
            SnapshotConverter.submit(dir);
            return new QemuPausedVm(dir, manifest, layers);
        } catch (IOException | RuntimeException e) {
            SnapshotException failure = new SnapshotException("pause of VM " + vm.id() + " failed while " + step + ": "
                    + e.getMessage(), e);
            if (!dir.isPaused()) {
                rollBack(vm, failure);
            }
            throw failure;
        }
    }

    /**
     * Sets the migration capability x-ignore-shared: RAM in a shared file is left out of the stream (the file is that
     * memory); any other RAM is in it as before. See {@link GuestRam} for which saves and loads run with it.
     */
    static void ignoreShared(QmpClient qmp) throws IOException {
        ignoreShared(qmp, true);
    }

    /** Sets x-ignore-shared on or off (a QEMU that saved one stream keeps the setting for the next). */
    static void ignoreShared(QmpClient qmp, boolean on) throws IOException {
        qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                List.of(Map.of("capability", "x-ignore-shared", "state", on))));
    }

    /**
     * The arguments the VM's QEMU runs with: whether it has a memory backend (and x-ignore-shared: a VM started by an
     * older version does not), and the CPU its snapshot needs.
     */
    private static List<String> commandLine(QemuVm vm) throws IOException {
        String cmdline = Files.readString(Path.of("/proc", Long.toString(vm.pid()), "cmdline"));
        return List.of(cmdline.split("\u0000"));
    }

    /** Runs the migration into memory.snap.tmp and renames it to memory.snap once QEMU reports it complete. */
    private static long saveMemory(QmpClient qmp, VmDirectory dir, boolean sharedRam) throws IOException {
        qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", UNLIMITED_BANDWIDTH));
        ignoreShared(qmp, sharedRam);
        try (MigrationReceiver receiver = MigrationReceiver.listen(dir.migrationSocket(), dir.memoryTmp())) {
            qmp.execute("migrate", Map.of("uri", receiver.uri()));
            awaitMigration(qmp, "outgoing");
            long bytes = receiver.awaitEnd(MIGRATION_TIMEOUT);
            Files.move(dir.memoryTmp(), dir.memorySnapshot(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return bytes;
        }
    }

    /** Polls query-migrate until it completes; a failed or cancelled migration is an error naming QEMU's reason. */
    static void awaitMigration(QmpClient qmp, String direction) throws IOException {
        long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
        while (true) {
            JsonNode info = qmp.execute("query-migrate");
            String status = info.path("status").asText("none");
            switch (status) {
                case "completed":
                    return;
                case "failed", "cancelled", "cancelling":
                    throw new IOException("the " + direction + " migration " + status
                            + (info.has("error-desc") ? ": " + info.get("error-desc").asText() : ""));
                default:
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the " + direction + " migration did not complete within "
                                + MIGRATION_TIMEOUT + " (status " + status + ")");
                    }
                    sleep(POLL);
            }
        }
    }

    private static void awaitBlockJobs(QmpClient qmp) throws IOException {
        long deadline = System.nanoTime() + BLOCK_JOB_TIMEOUT.toNanos();
        while (!qmp.execute("query-block-jobs").isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("a disk flattening job is still running after " + BLOCK_JOB_TIMEOUT);
            }
            sleep(POLL);
        }
    }

    private static void quit(QemuVm vm) throws IOException {
        try {
            vm.qmp().execute("quit");
        } catch (IOException e) {
            log.debug("VM {}: QMP quit: {}", vm.id(), e.getMessage()); // QEMU may close the socket before answering
        }
        vm.qmp().close();
        if (!vm.process().awaitExit(QUIT_GRACE)) {
            vm.process().kill();
            if (!vm.process().awaitExit(QUIT_GRACE)) {
                throw new IOException("qemu pid " + vm.pid() + " survived SIGKILL");
            }
        }
    }

    /**
     * The tail of a pause, also run by recovery when a crash came between the manifest and the move: the overlay
     * becomes the read-only layer the manifest names, and the VMM's runtime files go.
     */
    static void finishDisk(VmDirectory dir, PausedManifest manifest) throws IOException {
        if (Files.exists(dir.overlay()) && !Files.exists(manifest.layerPath())) {
            DiskLayers.freeze(dir.overlay(), manifest.layerPath());
        }
        dir.deleteRuntimeFiles();
    }

    /** Undoes a pause that has no manifest yet: the VM runs on as before, without snapshot files. */
    private static void rollBack(QemuVm vm, SnapshotException failure) {
        VmDirectory dir = vm.directory();
        try {
            if (vm.process().isOurs() && vm.qmp().isOpen()) {
                resumeVcpus(vm.qmp());
            }
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        try {
            Files.deleteIfExists(dir.memoryTmp());
            Files.deleteIfExists(dir.memorySnapshot());
            Files.deleteIfExists(dir.migrationSocket());
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /** Cancels a migration that may be running and restarts the vCPUs (also after a completed migration). */
    static void resumeVcpus(QmpClient qmp) throws IOException {
        String migration = qmp.execute("query-migrate").path("status").asText("none");
        if (!migration.equals("none") && !migration.equals("completed") && !migration.equals("failed")
                && !migration.equals("cancelled")) {
            qmp.execute("migrate_cancel");
            long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
            while (qmp.execute("query-migrate").path("status").asText().equals("cancelling")
                    && System.nanoTime() < deadline) {
                sleep(POLL);
            }
        }
        String status = qmp.execute("query-status").path("status").asText();
        if (!status.equals("running")) {
            qmp.execute("cont");
        }
    }

    private static void sleep(Duration duration) throws InterruptedIOException {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }
}
