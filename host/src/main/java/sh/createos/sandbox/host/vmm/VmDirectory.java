package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The files of one VM under {@code <data>/vms/<id>/}. */
record VmDirectory(Path path) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final int CONSOLE_TAIL_LINES = 40;
    private static final int CONSOLE_TAIL_BYTES = 8192;

    Path specFile() {
        return path.resolve("vm.json");
    }

    Path qmpSocket() {
        return path.resolve("qmp.sock");
    }

    Path agentSocket() {
        return path.resolve("agent.sock");
    }

    Path overlay() {
        return path.resolve("overlay.qcow2");
    }

    Path consoleLog() {
        return path.resolve("console.log");
    }

    Path pidFile() {
        return path.resolve("qemu.pid");
    }

    Path qemuLog() {
        return path.resolve("qemu.log");
    }

    /**
     * The RAM file of a VM whose memory backend is a shared file (a template being built), or of a converted paused
     * VM (which its resume and forks map copy-on-write).
     */
    Path ramFile() {
        return path.resolve("ram");
    }

    /** The device state (saved with x-ignore-shared) beside {@link #ramFile()} of a converted paused VM. */
    Path deviceState() {
        return path.resolve("device.snap");
    }

    /** Where {@link SnapshotConverter} works on this paused VM: its QEMU's files. */
    Path conversionDir() {
        return path.resolve("convert");
    }

    /** The memory + device state of a paused VM, complete once renamed from {@link #memoryTmp()}. */
    Path memorySnapshot() {
        return path.resolve("memory.snap");
    }

    Path memoryTmp() {
        return path.resolve("memory.snap.tmp");
    }

    /** Where QEMU sends its migration stream during a pause; the host copies it into {@link #memoryTmp()}. */
    Path migrationSocket() {
        return path.resolve("migrate.sock");
    }

    /** Present only when the pause is complete: the one sign that this directory holds a paused VM. */
    Path pausedManifest() {
        return path.resolve("paused.json");
    }

    boolean isPaused() {
        return Files.exists(pausedManifest());
    }

    void writePaused(PausedManifest manifest) throws IOException {
        writeAtomically(pausedManifest(), manifest);
    }

    PausedManifest readPaused() throws IOException {
        return JSON.readValue(pausedManifest().toFile(), PausedManifest.class);
    }

    /** Removes what belongs to a VMM process (sockets, pid file, overlay), keeping the paused VM's own files. */
    void deleteRuntimeFiles() throws IOException {
        for (Path file : List.of(qmpSocket(), agentSocket(), migrationSocket(), pidFile(), overlay(), memoryTmp())) {
            Files.deleteIfExists(file);
        }
    }

    String id() {
        return path.getFileName().toString();
    }

    /** QEMU cannot listen on a Unix socket path longer than sun_path. */
    void checkSocketPaths() {
        for (Path socket : List.of(qmpSocket(), agentSocket(), migrationSocket())) {
            if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
                throw new IllegalArgumentException("socket path " + socket + " is longer than " + MAX_SOCKET_PATH
                        + " bytes; use a shorter data directory or VM id");
            }
        }
    }

    void writeSpec(VmSpec spec) throws IOException {
        writeAtomically(specFile(), spec);
    }

    /** Written to a temporary name, flushed to disk and renamed: a crash leaves the old file or the new one. */
    static void writeAtomically(Path file, Object value) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(value)));
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    VmSpec readSpec() throws IOException {
        return JSON.readValue(specFile().toFile(), VmSpec.class);
    }

    /** The pid QEMU wrote, or -1 if it has not (yet). */
    long readPid() throws IOException {
        try {
            return Long.parseLong(Files.readString(pidFile()).strip());
        } catch (NoSuchFileException e) {
            return -1;
        } catch (NumberFormatException e) {
            throw new IOException("bad pid file " + pidFile() + ": " + e.getMessage());
        }
    }

    /** The last lines of the serial console, for error messages; a note when there is none. */
    String consoleTail() {
        try {
            byte[] bytes = Files.readAllBytes(consoleLog());
            int from = Math.max(0, bytes.length - CONSOLE_TAIL_BYTES);
            List<String> lines = new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8)
                    .replace("\r", "").lines().toList();
            List<String> tail = new ArrayList<>(lines.subList(Math.max(0, lines.size() - CONSOLE_TAIL_LINES), lines.size()));
            return tail.isEmpty() ? "(console.log is empty)" : String.join("\n", tail);
        } catch (NoSuchFileException e) {
            return "(no console.log)";
        } catch (IOException e) {
            return "(console.log unreadable: " + e.getMessage() + ")";
        }
    }

    /** Removes the directory and everything in it; a directory that is already gone is fine. */
    void delete() throws IOException {
        delete(null);
    }

    /** With a {@link TestSeam} reached after the first file is deleted ({@code seam} null: none). */
    void delete(String seam) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
                if (seam != null) {
                    TestSeam.reached(seam);
                    seam = null;
                }
            }
        }
    }
}
