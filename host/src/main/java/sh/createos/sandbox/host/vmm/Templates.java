package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.kit.GuestKit;

/**
 * Template snapshots under {@code <data>/templates/<key>/}: a VM booted once and paused when its agent was ready, so
 * that later boots with the same key are restores. The key covers everything the saved state depends on: the image
 * file, the kit (kernel, initramfs with its agent), QEMU's version, vcpus, memory and the QEMU device arguments
 * (a snapshot restores only onto the same device layout). A template is a directory renamed into place complete.
 */
final class Templates {
    private static final Logger log = LoggerFactory.getLogger(Templates.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    static final String DISK = "disk.qcow2";
    /** Device state only (saved with x-ignore-shared): the guest's RAM is {@link #RAM}. */
    static final String MEMORY = "memory.snap";
    /** The guest's RAM, which every restore maps copy-on-write (share=off) and nothing ever writes again. */
    static final String RAM = "ram";
    static final String MANIFEST = "template.json";
    /** The id prefix of the VMs that templates are built from. */
    static final String VM_PREFIX = "template-";
    private static final String BUILDING = ".building-";
    /** Under the data directory: the build locks of {@link #isBuilding}. */
    private static final String BUILD_LOCKS = "template-locks";
    /** A build directory older than this belongs to a crashed process. */
    private static final Duration STALE_BUILD = Duration.ofHours(1);
    private static final Map<String, ReentrantLock> BUILDS = new ConcurrentHashMap<>();
    /** Directories of the template VMs this process is building; any other template VM is a crashed build's. */
    private static final Set<Path> BUILDING_VMS = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final QemuVmm vmm;
    private final GuestKit kit;
    private final Accelerator accelerator;
    private final DiskLayers layers;

    record Manifest(String key, String kit, String image, int vcpus, @JsonProperty("mem_mib") int memMib,
            @JsonProperty("disk_mib") int diskMib) {}

    Templates(Path dataDir, QemuVmm vmm, GuestKit kit, Accelerator accelerator, DiskLayers layers) {
        this.dir = dataDir.resolve("templates");
        this.vmm = vmm;
        this.kit = kit;
        this.accelerator = accelerator;
        this.layers = layers;
    }

    /**
     * Restores {@code spec} from its template, building the template first if there is none and no other thread is
     * building it; empty when the caller should cold boot (a build in progress elsewhere, or a failed build).
     */
    Optional<Vm> restore(VmSpec spec, int baseMib) throws IOException {
        String key = key(spec);
        Path template = dir.resolve(key);
        if (!Files.exists(template.resolve(MANIFEST))) {
            ReentrantLock build = BUILDS.computeIfAbsent(dir + "/" + key, k -> new ReentrantLock());
            if (!build.tryLock()) {
                return Optional.empty();
            }
            try {
                if (!Files.exists(template.resolve(MANIFEST)) && !build(spec, baseMib, key)) {
                    return Optional.empty(); // another process builds it
                }
            } catch (VmBootException e) {
                // The template's VM did not come up: a cold boot of the same kit, image and accelerator would
                // wait out the same failure, so this boot ends here, once, with its cause.
                throw new VmBootException("VM " + spec.id() + " cannot boot: the boot of its template " + key
                        + " failed, and a cold boot would fail the same way: " + e.getMessage(),
                        e.getCause() != null ? e.getCause() : e);
            } catch (IOException | RuntimeException e) {
                log.warn("building template {} for {} failed; cold booting: {}", key, spec.image(), e.getMessage());
                return Optional.empty();
            } finally {
                build.unlock();
            }
        }
        Manifest manifest = JSON.readValue(template.resolve(MANIFEST).toFile(), Manifest.class);
        try {
            return Optional.of(vmm.restoreNew(spec, manifest.diskMib(), template.resolve(MEMORY),
                    GuestRam.privateFile(template.resolve(RAM)), template.resolve(DISK), VmStart.Kind.TEMPLATE_RESTORE));
        } catch (SnapshotException e) {
            // A template that does not restore would fail every create: drop it (it is rebuilt) and cold boot.
            log.warn("restoring template {} failed; removing it and cold booting: {}", key, e.getMessage());
            discard(template);
            return Optional.empty();
        }
    }

    private void discard(Path template) {
        layers.lock().lock();
        try {
            if (!layers.isUsedByAnyVm(template.resolve(DISK))) {
                new VmDirectory(template).delete();
            }
        } catch (IOException e) {
            log.warn("cannot remove template {}: {}", template, e.getMessage());
        } finally {
            layers.lock().unlock();
        }
    }

    /**
     * Boots a VM of the image's own size, pauses it once its agent answered, and moves its files into place; false
     * when another process sharing this data directory is building the same template right now.
     */
    private boolean build(VmSpec spec, int baseMib, String key) throws IOException {
        VmSpec templateSpec = new VmSpec(VM_PREFIX + key, spec.image(), spec.vcpus(), spec.memMib(), baseMib, "template");
        Path vmDir = vmm.vmDirectory(templateSpec.id());
        // In the set before the file lock is taken and until it is released, so that this process never probes (and
        // by closing its probe, drops) a lock it holds itself.
        BUILDING_VMS.add(vmDir);
        try (FileChannel lockFile = openBuildLock(vmDir); FileLock held = lockFile.tryLock()) {
            if (held == null) {
                return false;
            }
            if (!Files.exists(dir.resolve(key).resolve(MANIFEST))) {
                buildFrom(templateSpec, key);
            }
            return true;
        } finally {
            BUILDING_VMS.remove(vmDir);
        }
    }

    /**
     * True while a template is being built from the VM in {@code vmDir}, by this process or by another one sharing
     * the data directory (a second server, parallel test JVMs): that VM is not a crashed build's to remove.
     */
    static boolean isBuilding(Path vmDir) {
        if (BUILDING_VMS.contains(vmDir)) {
            return true;
        }
        Path lock = buildLock(vmDir);
        if (!Files.exists(lock)) {
            return false;
        }
        try (FileChannel probe = FileChannel.open(lock, StandardOpenOption.WRITE); FileLock free = probe.tryLock()) {
            return free == null;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            log.warn("cannot probe the build lock {}: {}", lock, e.getMessage());
            return false;
        }
    }

    /** An OS file lock per template VM, beside the data directory's vms/ and templates/ (never listed as either). */
    private static Path buildLock(Path vmDir) {
        return vmDir.getParent().resolveSibling(BUILD_LOCKS).resolve(vmDir.getFileName() + ".lock");
    }

    private static FileChannel openBuildLock(Path vmDir) throws IOException {
        Path lock = buildLock(vmDir);
        Files.createDirectories(lock.getParent());
        return FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    private void buildFrom(VmSpec templateSpec, String key) throws IOException {
        long started = System.nanoTime();
        // Its RAM is a shared file, so that its pause saves device state only and the file is the template's memory.
        Vm vm = vmm.coldBoot(templateSpec, GuestRam.sharedFile(new VmDirectory(vmm.vmDirectory(templateSpec.id())).ramFile()));
        PausedVm paused;
        try {
            paused = vm.pause();
        } catch (IOException | RuntimeException e) {
            vm.destroy();
            throw e;
        }
        Files.createDirectories(dir);
        Path building = dir.resolve(key + BUILDING + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()));
        Files.createDirectory(building);
        QemuPausedVm source = (QemuPausedVm) paused;
        try {
            Files.move(source.directory().memorySnapshot(), building.resolve(MEMORY), StandardCopyOption.ATOMIC_MOVE);
            Files.move(source.directory().ramFile(), building.resolve(RAM), StandardCopyOption.ATOMIC_MOVE);
            layers.lock().lock();
            try {
                Files.move(source.manifest().layerPath(), building.resolve(DISK), StandardCopyOption.ATOMIC_MOVE);
                Files.deleteIfExists(source.directory().pausedManifest());
                source.directory().delete();
            } finally {
                layers.lock().unlock();
            }
            VmDirectory.writeAtomically(building.resolve(MANIFEST), new Manifest(key, fingerprint(templateSpec.image()),
                    templateSpec.image(), templateSpec.vcpus(), templateSpec.memMib(), templateSpec.diskMib()));
            Files.move(building, dir.resolve(key), StandardCopyOption.ATOMIC_MOVE);
            log.info("template {} ({} {} vCPU {} MiB) built in {} ms", key, templateSpec.image(), templateSpec.vcpus(),
                    templateSpec.memMib(), (System.nanoTime() - started) / 1_000_000);
        } catch (FileAlreadyExistsException e) {
            log.info("template {} was built by another process meanwhile", key);
            new VmDirectory(building).delete();
        } catch (IOException | RuntimeException e) {
            new VmDirectory(building).delete();
            paused.destroy();
            throw e;
        }
    }

    /**
     * Removes builds that a crashed process left, and templates of another kit or QEMU that no VM's disk still
     * rests on.
     */
    void removeStale() {
        try {
            for (Path template : DiskLayers.list(dir)) {
                String name = template.getFileName().toString();
                if (name.contains(BUILDING)) {
                    if (Files.getLastModifiedTime(template).toInstant().plus(STALE_BUILD).isBefore(java.time.Instant.now())) {
                        log.info("removing an unfinished template build {}", template);
                        new VmDirectory(template).delete();
                    }
                    continue;
                }
                Path manifestFile = template.resolve(MANIFEST);
                Manifest manifest = Files.exists(manifestFile) ? JSON.readValue(manifestFile.toFile(), Manifest.class) : null;
                if (manifest != null && manifest.kit().equals(currentFingerprint(manifest.image()))) {
                    continue;
                }
                layers.lock().lock();
                try {
                    if (!layers.isUsedByAnyVm(template.resolve(DISK))) {
                        log.info("removing template {} of an outdated kit", template);
                        new VmDirectory(template).delete();
                    }
                } finally {
                    layers.lock().unlock();
                }
            }
        } catch (IOException e) {
            log.warn("cleaning up templates in {}: {}", dir, e.getMessage());
        }
    }

    /** The template key of {@code spec}: only its image, vcpus and memory matter, not its id, name or disk size. */
    String key(VmSpec spec) throws IOException {
        VmSpec canonical = new VmSpec(VM_PREFIX + "key", spec.image(), spec.vcpus(), spec.memMib(), 1, "template");
        List<String> devices = QemuCommandLine.forVm(canonical, kit, new VmDirectory(Path.of("/template")), accelerator, null).argv();
        return sha256(kitFingerprint() + "\n" + imageIdentity(spec.image()) + "\n" + String.join("\u0000", devices)
                + "\n" + CpuIdentity.of(accelerator)).substring(0, 16);
    }

    /** Kernel, initramfs (which carries the agent) and QEMU: a change of any of them outdates every template. */
    private String kitFingerprint() throws IOException {
        return sha256(identity(kit.kernel()) + "\n" + identity(kit.initrd()) + "\n" + QemuVersion.get()).substring(0, 16);
    }

    private String imageIdentity(String image) throws IOException {
        return identity(vmm.image(image));
    }

    /** What a template of {@code image} was built from; it is outdated once this changes. */
    private String fingerprint(String image) throws IOException {
        return sha256(kitFingerprint() + "\n" + imageIdentity(image)).substring(0, 16);
    }

    /** Empty when the kit no longer has the image. */
    private String currentFingerprint(String image) throws IOException {
        return vmm.hasImage(image) ? fingerprint(image) : "";
    }

    private static String identity(Path file) throws IOException {
        return file + ":" + Files.size(file) + ":" + Files.getLastModifiedTime(file).toMillis();
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
