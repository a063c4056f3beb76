package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.proc.Command;

/**
 * The qcow2 disk layers under {@code <data>/layers/}: frozen overlays of paused VMs, which the paused VM's resume
 * and any number of forks use as their backing file. A layer lives as long as something refers to it: a paused
 * VM's manifest, a VM's overlay, a template or another layer (following backing files); everything else is
 * garbage. Changing references and collecting garbage happen under one lock per data directory.
 */
final class DiskLayers {
    private static final Logger log = LoggerFactory.getLogger(DiskLayers.class);
    private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofSeconds(60);
    static final String SUFFIX = ".qcow2";

    private final Path dir;
    private final Path vmsDir;
    private final Path templatesDir;
    private final ReentrantLock lock;

    DiskLayers(Path dataDir) {
        this.dir = dataDir.resolve("layers");
        this.vmsDir = dataDir.resolve("vms");
        this.templatesDir = dataDir.resolve("templates");
        this.lock = LOCKS.computeIfAbsent(dir, d -> new ReentrantLock());
    }

    Path dir() {
        return dir;
    }

    /** Held while a reference to a layer is created or dropped, and while garbage is collected. */
    ReentrantLock lock() {
        return lock;
    }

    /** A fresh layer name for the disk of {@code vmId}. */
    Path newLayer(String vmId) throws IOException {
        Files.createDirectories(dir);
        return dir.resolve(vmId + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()) + SUFFIX);
    }

    /** Moves a VM's overlay (its VMM has exited) to {@code layer} and makes it read-only: it never changes again. */
    static void freeze(Path overlay, Path layer) throws IOException {
        Files.move(overlay, layer, StandardCopyOption.ATOMIC_MOVE);
        Files.setPosixFilePermissions(layer, PosixFilePermissions.fromString("r--r--r--"));
    }

    /** A new empty qcow2 {@code overlay} on top of {@code backing} (a qcow2 layer), with the same virtual size. */
    static void createOverlay(Path overlay, Path backing) throws IOException {
        Command.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", backing.toString(), "-F", "qcow2",
                overlay.toString()).timeout(QEMU_IMG_TIMEOUT).run();
    }

    /** {@code top} and its backing files in order, ending at the first file that is not qcow2 (the base image). */
    static List<Path> chain(Path top) throws IOException {
        List<Path> chain = new ArrayList<>(List.of(top));
        Path current = top;
        while (isQcow2(current)) {
            Optional<Path> backing = Qcow2Header.read(current).backingFile();
            if (backing.isEmpty()) {
                break;
            }
            current = backing.get();
            chain.add(current);
        }
        return chain;
    }

    /** The number of qcow2 layers below {@code top} (its base image not counted). */
    static int backingLayers(Path top) throws IOException {
        List<Path> chain = chain(top);
        return (int) chain.stream().skip(1).filter(DiskLayers::isQcow2).count();
    }

    /** Whether an image file (a kit's ext4 or a built qcow2 image) is qcow2, by its name as everywhere here. */
    static boolean isQcow2Image(Path file) {
        return isQcow2(file);
    }

    /**
     * Whether a VM's overlay, a paused VM's layer, a template's disk or one of {@code extraRoots} has {@code disk} in
     * its chain. Call under {@link #lock()}.
     */
    boolean isReachable(Path disk, java.util.Collection<Path> extraRoots) throws IOException {
        Set<Path> live = reachable(true);
        for (Path root : extraRoots) {
            if (Files.exists(root)) {
                live.addAll(chain(root));
            }
        }
        return live.contains(disk.toAbsolutePath().normalize());
    }

    private static boolean isQcow2(Path file) {
        return file.getFileName().toString().endsWith(SUFFIX);
    }

    /** Deletes every layer nothing refers to; returns how many. Never fails: a problem is logged and kept for later. */
    int collectGarbage() {
        lock.lock();
        try {
            if (!Files.isDirectory(dir)) {
                return 0;
            }
            Set<Path> live = reachable(true);
            int removed = 0;
            for (Path layer : list(dir)) {
                if (layer.getFileName().toString().endsWith(SUFFIX) && !live.contains(layer)) {
                    Files.deleteIfExists(layer);
                    log.info("removed disk layer {} (nothing refers to it)", layer.getFileName());
                    removed++;
                }
            }
            return removed;
        } catch (IOException e) {
            log.warn("collecting disk layers in {}: {}", dir, e.getMessage());
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** True if a VM's overlay or a paused VM's layer rests on {@code disk}. Call under {@link #lock()}. */
    boolean isUsedByAnyVm(Path disk) throws IOException {
        return reachable(false).contains(disk.toAbsolutePath().normalize());
    }

    /** Every file in the disk chains of the roots; an unreadable chain fails (so nothing is wrongly deleted). */
    private Set<Path> reachable(boolean withTemplates) throws IOException {
        Set<Path> live = new HashSet<>();
        for (Path root : roots(withTemplates)) {
            try {
                live.addAll(chain(root));
            } catch (NoSuchFileException e) {
                log.debug("disk {} is gone", root);
            } catch (IOException e) {
                throw new IOException("cannot read the disk chain of " + root + ": " + e.getMessage(), e);
            }
        }
        return live;
    }

    /** Every disk that is in use by itself: VM overlays, paused VMs' layers, and templates' disks if asked. */
    private List<Path> roots(boolean withTemplates) throws IOException {
        List<Path> roots = new ArrayList<>();
        for (Path vm : list(vmsDir)) {
            VmDirectory vmDir = new VmDirectory(vm);
            if (Files.exists(vmDir.overlay())) {
                roots.add(vmDir.overlay());
            }
            if (vmDir.isPaused()) {
                roots.add(vmDir.readPaused().layerPath());
            }
        }
        for (Path template : withTemplates ? list(templatesDir) : List.<Path>of()) {
            Path disk = template.resolve(Templates.DISK);
            if (Files.exists(disk)) {
                roots.add(disk);
            }
        }
        return roots;
    }

    static List<Path> list(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.toAbsolutePath().normalize()).sorted().toList();
        }
    }
}
