package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.proc.Command;

/**
 * Read-only images built on this host (template builds), under {@code <data>/built-images/}: each is a qcow2 file
 * holding only what the build changed, with the image it was built on as its backing file (a kit image, or another
 * built image). A VM boots one like a kit image. {@link #retire} unregisters an image; its file
 * stays, marked retired, while any disk chain (a running or paused VM, a template snapshot, a cached build step,
 * another built image) rests on it, and {@link QemuVmm#sweepImages} removes it once none does.
 */
public final class BuiltImages {
    private static final Logger log = LoggerFactory.getLogger(BuiltImages.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofMinutes(10);
    static final String SUFFIX = DiskLayers.SUFFIX;
    private static final String RETIRED = ".retired";

    private final Path dir;
    private final Map<String, Path> files = new ConcurrentHashMap<>();

    BuiltImages(Path dataDir) {
        this.dir = dataDir.toAbsolutePath().normalize().resolve("built-images");
        try {
            for (Path file : DiskLayers.list(dir)) {
                String fileName = file.getFileName().toString();
                if (Files.isRegularFile(file) && fileName.endsWith(SUFFIX) && !Files.exists(marker(file))) {
                    files.put(fileName.substring(0, fileName.length() - SUFFIX.length()), file);
                } else if (fileName.endsWith(".tmp")) {
                    Files.deleteIfExists(file); // an export that did not finish
                }
            }
        } catch (IOException e) {
            log.warn("reading built images in {}: {}", dir, e.getMessage());
        }
    }

    /** Where the image files are. */
    Path directory() {
        return dir;
    }

    /**
     * Registers the standalone qcow2 file {@code qcow2} (moved here, made read-only) as image {@code name}: an
     * image pulled from a registry ({@link OciImages}).
     */
    void register(String name, Path qcow2) throws IOException {
        checkName(name);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path target = dir.resolve(name + SUFFIX);
        Path tmp = dir.resolve(name + SUFFIX + ".tmp");
        try {
            Files.move(qcow2, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.deleteIfExists(marker(target));
        files.put(name, target);
    }

    /** The registered image's file, or null. */
    public Path file(String name) {
        return files.get(name);
    }

    /**
     * Writes image {@code name} from a paused VM's disk: a copy of its frozen layer rebased (safely: every cluster
     * that differs is written into it) onto the file of {@code baseFile}, the image the VM booted from, so the
     * result no longer needs the layers in between. Registered once complete; returns its virtual size in bytes.
     */
    long export(QemuPausedVm paused, Path baseFile, String name) throws IOException {
        checkName(name);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------")); // the users' data
        Path target = dir.resolve(name + SUFFIX);
        if (Files.exists(target)) {
            throw new IOException("built image " + name + " already exists: " + target);
        }
        Path layer = paused.manifest().layerPath();
        Path tmp = dir.resolve(name + SUFFIX + ".tmp");
        try {
            Files.copy(layer, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Command.of("qemu-img", "rebase", "-q", "-f", "qcow2", "-b", baseFile.toString(), "-F",
                    DiskLayers.isQcow2Image(baseFile) ? "qcow2" : "raw", tmp.toString()).timeout(QEMU_IMG_TIMEOUT).run();
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        files.put(name, target);
        return Qcow2Header.read(target).virtualSize();
    }

    /**
     * Unregisters {@code name}: no new VM boots it. Its file stays where it is (disk chains name it by its absolute
     * path), marked retired, until {@link QemuVmm#sweepImages} finds nothing resting on it.
     */
    void retire(String name) throws IOException {
        checkName(name);
        files.remove(name);
        Path file = dir.resolve(name + SUFFIX);
        if (Files.exists(file)) {
            Files.writeString(marker(file), "");
        }
    }

    /** Files of retired images that are still on disk. */
    List<Path> retiredFiles() throws IOException {
        return DiskLayers.list(dir).stream().filter(f -> f.getFileName().toString().endsWith(SUFFIX)
                && Files.exists(marker(f))).toList();
    }

    /** Deletes a retired image's file and marker (the caller checked that nothing rests on it). */
    void delete(Path file) throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(marker(file));
        log.info("removed built image {} (retired, nothing rests on it)", file.getFileName());
    }

    private static Path marker(Path file) {
        return file.resolveSibling(file.getFileName() + RETIRED);
    }

    /** Every registered image file: roots of the reachability check (an image built FROM another rests on it). */
    List<Path> registeredFiles() {
        return List.copyOf(files.values());
    }

    private static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad built image name '" + name + "'");
        }
    }
}
