package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A detached VMM process known only by its pid (it is not our child: it daemonized). "Running" excludes zombies,
 * which a PID 1 that does not reap orphans may leave behind; "ours" means its command line names the VM directory
 * (or the directory it was started in, for a {@link QemuPool} member renamed to its VM's), so a recycled pid is never
 * mistaken for the VMM.
 */
record VmmProcess(long pid, Path vmDir) {
    private static final Duration POLL = Duration.ofMillis(50);
    /** In a VM directory that was renamed: the directory its QEMU was started in, which its command line names. */
    static final String STARTED_IN = "started-in";

    boolean isRunning() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The state follows the parenthesised command name, which may itself contain ')'.
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false; // no /proc entry: gone
        }
    }

    /** Running, and its command line mentions the VM directory. */
    boolean isOurs() {
        if (pid <= 0 || !isRunning()) {
            return false;
        }
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return namesOurDirectory(new String(cmdline, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
    }

    private boolean namesOurDirectory(String cmdline) {
        if (cmdline.contains(vmDir.toString() + "/")) {
            return true;
        }
        try {
            return cmdline.contains(Files.readString(vmDir.resolve(STARTED_IN)).strip() + "/");
        } catch (IOException e) {
            return false; // not renamed
        }
    }

    /**
     * Kills every process whose command line names {@code dir}, pid file or not, and waits until none is left: a VMM
     * whose starter was killed before QEMU wrote its pid file runs on unseen by {@link #isOurs}. Scans again after the
     * kills, since a QEMU that was daemonizing may have forked its child after the first scan. Returns their pids.
     */
    static List<Long> killAllNaming(Path dir, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> killed = new ArrayList<>();
        for (List<VmmProcess> found = naming(dir); !found.isEmpty(); found = naming(dir)) {
            for (VmmProcess process : found) {
                process.kill();
                killed.add(process.pid());
            }
            for (VmmProcess process : found) {
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                if (!process.awaitExit(left)) {
                    throw new IOException("process " + process.pid() + " naming " + dir + " survived SIGKILL");
                }
            }
        }
        return killed;
    }

    /** The running processes whose command line names {@code dir}. */
    static List<VmmProcess> naming(Path dir) throws IOException {
        List<VmmProcess> found = new ArrayList<>();
        String needle = dir + "/"; // as the VMM's command line names it, like isOurs
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                VmmProcess process = new VmmProcess(Long.parseLong(name), dir);
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.contains(needle) && process.isRunning()) {
                        found.add(process);
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return found;
    }

    /** SIGKILL, only if the pid still belongs to our VMM. */
    void kill() {
        if (isOurs()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /**
     * Running and not some other program: ours, or ours on its way out — the kernel empties the command line of an
     * exiting process before it becomes a zombie, and files and devices it held are released only after that.
     */
    private boolean isOursOrExiting() {
        if (pid <= 0 || !isRunning()) {
            return false;
        }
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return cmdline.length == 0 || namesOurDirectory(new String(cmdline, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until our VMM is gone (or a zombie); false if it is still running after {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedIOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isOursOrExiting()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for VMM process " + pid + " to exit");
            }
        }
        return true;
    }
}
