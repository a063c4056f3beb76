package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.core.type.TypeReference;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Managed processes of one sandbox ({@link Sandbox#processes()}): commands and PTYs that run on with no client
 * attached, keep their output for replay, take input, resize and signals, and are waited on or killed as a tree.
 */
public final class Processes {
    private static final Duration MAX_WAIT = Duration.ofMillis(55_000);
    private final Transport transport;
    private final String base;

    Processes(Transport transport, String base) {
        this.transport = transport;
        this.base = base;
    }

    private String path(String processId, String suffix) {
        return base + "/" + Transport.segment(processId) + suffix;
    }

    /** Starts a process; it is running when this returns. */
    public ManagedProcess start(ProcessRequest request) {
        return transport.data(new Transport.Call("POST", base).json(request.body()), ManagedProcess.class);
    }

    /** Running and retained finished processes, oldest first. */
    public List<ManagedProcess> list() {
        return Transport.convert(transport.data(new Transport.Call("GET", base)).path("processes"),
                Transport.JSON.getTypeFactory().constructType(new TypeReference<List<ManagedProcess>>() {}));
    }

    /** One process. @throws NotFoundException for an unknown or evicted id */
    public ManagedProcess get(String processId) {
        return transport.data(new Transport.Call("GET", path(processId, "")), ManagedProcess.class);
    }

    /** Replays every retained frame after {@code afterSeq} (0: all), then follows live output. Never retried. */
    public ProcessStream attach(String processId, long afterSeq) {
        return new ProcessStream(transport.send(new Transport.Call("GET", path(processId, "/connect"))
                .query("after", afterSeq).once().timeout(Duration.ZERO)).body());
    }

    /** Writes to the process's stdin (or PTY); returns the write's sequence number. */
    public long input(String processId, byte[] data) {
        return transport.data(new Transport.Call("POST", path(processId, "/input"))
                .json(Map.of("data_base64", Base64.getEncoder().encodeToString(data)))).path("input_seq").asLong();
    }

    /** Closes a pipe process's stdin, so it reads EOF. */
    public void closeStdin(String processId) {
        transport.data(new Transport.Call("POST", path(processId, "/stdin/close")));
    }

    /** Sets a PTY's size. */
    public void resize(String processId, int rows, int cols) {
        transport.data(new Transport.Call("POST", path(processId, "/resize")).json(Map.of("rows", rows, "cols", cols)));
    }

    /** Sends a signal ({@code SIGINT}, {@code TERM}, …) to the process group (a PTY's foreground group). */
    public void signal(String processId, String signal) {
        transport.data(new Transport.Call("POST", path(processId, "/signal")).json(Map.of("signal", signal)));
    }

    /**
     * Waits until the leader (or, with {@code wholeTree}, every process of the tree) has exited, re-polling the
     * server's long poll. @throws WaitTimeoutException after {@code timeout}
     */
    public ManagedProcess waitFor(String processId, boolean wholeTree, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            long slice = Math.min(left, MAX_WAIT.toMillis());
            try {
                return transport.data(new Transport.Call("GET", path(processId, "/wait"))
                        .query("scope", wholeTree ? "tree" : "leader").query("timeout_ms", slice).once()
                        .timeout(Duration.ofMillis(slice + 30_000)), ManagedProcess.class);
            } catch (SandboxApiException e) {
                if (e.statusCode() != 408) {
                    throw e;
                }
            }
            if (System.nanoTime() >= deadline) {
                throw new WaitTimeoutException("process " + processId + " still running after " + timeout);
            }
        }
    }

    /** Terminates the whole tree: SIGTERM, then SIGKILL after {@code grace}; returns the final view. */
    public ManagedProcess kill(String processId, Duration grace) {
        return transport.data(new Transport.Call("DELETE", path(processId, "")).query("grace_ms", grace.toMillis())
                .timeout(Duration.ofMillis(grace.toMillis() + 60_000)), ManagedProcess.class);
    }
}
