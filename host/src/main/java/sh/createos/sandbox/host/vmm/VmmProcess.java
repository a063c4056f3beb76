package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A detached VMM process known only by its pid (it is not our child: it daemonized). "Running" excludes zombies,
 * which a PID 1 that does not reap orphans may leave behind; "ours" means its command line names the VM directory,
 * so a recycled pid is never mistaken for the VMM.
 */
record VmmProcess(long pid, Path vmDir) {
    private static final Duration POLL = Duration.ofMillis(50);

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
            return new String(cmdline, StandardCharsets.UTF_8).contains(vmDir.toString() + "/");
        } catch (IOException e) {
            return false;
        }
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
            return cmdline.length == 0 || new String(cmdline, StandardCharsets.UTF_8).contains(vmDir.toString() + "/");
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
