package sh.createos.sandbox.host.proc;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way the host runs an external program: logs the command line, captures stdout and stderr, and turns a
 * non-zero exit or a timeout into a {@link CommandFailedException} naming the command, its exit code and stderr.
 *
 * <pre>{@code Command.of("qemu-img", "create", "-f", "qcow2", path.toString()).timeout(Duration.ofSeconds(30)).run()}</pre>
 */
public final class Command {
    private static final Logger log = LoggerFactory.getLogger(Command.class);
    /** How long to keep reading output after the process exited; a background child may hold the pipes open. */
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(1);
    private static final int MAX_STDERR_IN_MESSAGE = 4000;

    private final List<String> argv;
    private final Duration timeout;

    private Command(List<String> argv, Duration timeout) {
        this.argv = argv;
        this.timeout = timeout;
    }

    public static Command of(String... argv) {
        return of(List.of(argv));
    }

    public static Command of(List<String> argv) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty command line");
        }
        return new Command(List.copyOf(argv), null);
    }

    /** Kills the process (and its descendants) and fails if it has not exited within {@code timeout}. */
    public Command timeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        return new Command(argv, timeout);
    }

    public List<String> argv() {
        return argv;
    }

    public record Result(String stdout, String stderr) {}

    /**
     * Runs {@code argv} under umask 077: what external tools write (qcow2 overlays, QEMU's memory snapshots, their
     * sockets and logs) holds guest memory and disks, so it is the owner's alone (issue 18). {@code exec} keeps the
     * pid the tool's own.
     */
    private static List<String> privately(List<String> argv) {
        List<String> wrapped = new java.util.ArrayList<>(List.of("/bin/sh", "-c", "umask 077 && exec \"$0\" \"$@\""));
        wrapped.addAll(argv);
        return wrapped;
    }

    public Result run() throws IOException {
        String line = commandLine();
        log.debug("run: {}", line);
        Process process;
        try {
            process = new ProcessBuilder(privately(argv)).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new CommandFailedException("cannot start `" + line + "`: " + e.getMessage(), argv, -1, "");
        }
        Capture stdout = Capture.start(process.getInputStream());
        Capture stderr = Capture.start(process.getErrorStream());
        try {
            boolean exited = true;
            if (timeout == null) {
                process.waitFor();
            } else {
                exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            if (!exited) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
                String err = stderr.finish();
                throw new CommandFailedException(
                        "`" + line + "` timed out after " + timeout + stderrSuffix(err), argv, -1, err);
            }
            String out = stdout.finish();
            String err = stderr.finish();
            int code = process.exitValue();
            if (code != 0) {
                throw new CommandFailedException("`" + line + "` failed with exit code " + code + stderrSuffix(err),
                        argv, code, err);
            }
            log.debug("done: {}", line);
            return new Result(out, err);
        } catch (InterruptedException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running `" + line + "`");
        }
    }

    private static String stderrSuffix(String stderr) {
        String trimmed = stderr.strip();
        if (trimmed.isEmpty()) {
            return " (no stderr)";
        }
        if (trimmed.length() > MAX_STDERR_IN_MESSAGE) {
            trimmed = "…" + trimmed.substring(trimmed.length() - MAX_STDERR_IN_MESSAGE);
        }
        return ": " + trimmed;
    }

    String commandLine() {
        return argv.stream().map(Command::quote).collect(Collectors.joining(" "));
    }

    private static String quote(String arg) {
        if (!arg.isEmpty() && arg.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_./=:,+@%".indexOf(c) >= 0)) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** Drains one output pipe on a virtual thread so a chatty process never blocks on a full pipe. */
    private static final class Capture {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final Thread thread;

        private Capture(InputStream in) {
            this.thread = Thread.ofVirtual().name("command-output").start(() -> drain(in));
        }

        static Capture start(InputStream in) {
            return new Capture(in);
        }

        private void drain(InputStream in) {
            byte[] buf = new byte[8192];
            try (in) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (bytes) {
                        bytes.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // the pipe was closed under us: keep what was read
            }
        }

        /** Waits briefly for end of output; a background descendant holding the pipe open must not hang us. */
        String finish() throws InterruptedException {
            if (!thread.join(OUTPUT_GRACE)) {
                thread.interrupt();
            }
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
