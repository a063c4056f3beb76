package sh.createos.sandbox.host.agent;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The managed processes of one guest (the proc_* ops of docs/agent-protocol.md). The agent owns them: they outlive
 * this connection, a control-plane restart and a pause → resume. Failures are {@link AgentException}s whose code
 * names the reason: "ENOENT" (no such process), "start_failed", "process_limit", "not_a_pipe", "not_a_pty",
 * "stdin_closed", "exited", "EINVAL", "EFBIG", "EAGAIN" (input backlog full), "EBUSY" (too many followers).
 */
public final class AgentProcesses {
    private final AgentConnection connection;

    AgentProcesses(AgentConnection connection) {
        this.connection = connection;
    }

    record Start(String op, List<String> argv, Map<String, String> env, String cwd, String user, PtySize pty,
            boolean shell) {}

    record Ref(String op, String id) {}

    record Connect(String op, String id, long after) {}

    record Resize(String op, String id, int rows, int cols) {}

    record Signal(String op, String id, String signal) {}

    record Wait(String op, String id, String scope, long timeoutMs) {}

    record Kill(String op, String id, long graceMs) {}

    /** The outcome of {@link #await}: {@code done} false when the timeout passed first. */
    public record WaitResult(boolean done, ManagedProcessInfo process) {}

    public ManagedProcessInfo start(ProcessStart request) throws IOException {
        return proc(call(new Start("proc_start", request.argv(), request.env().isEmpty() ? null : request.env(),
                request.cwd(), request.user(), request.pty(), request.shell()), "proc_start " + request.argv()));
    }

    /** Every record (running and retained finished ones), oldest first. */
    public List<ManagedProcessInfo> list() throws IOException {
        AgentStream stream = connection.open(new Ref("proc_list", null), "proc_list");
        List<ManagedProcessInfo> all = new ArrayList<>();
        while (true) {
            Messages.Event event = next(stream);
            for (JsonNode node : event.body().path("processes")) {
                all.add(new Messages.Event("proc", node).as(ManagedProcessInfo.class));
            }
            if (event.is("ok")) {
                return all;
            }
            if (!event.is("procs")) {
                throw new ProtocolException("proc_list: unexpected event " + event);
            }
        }
    }

    public ManagedProcessInfo get(String id) throws IOException {
        return proc(call(new Ref("proc_get", id), "proc_get " + id));
    }

    /**
     * Replays the retained chunks after {@code after} and follows the live output. Unknown process → ENOENT;
     * an expired offset is the stream's only frame, {@link ProcessOutputFrame.Expired}.
     */
    public ProcessOutput connect(String id, long after) throws IOException {
        String what = "proc_connect " + id;
        AgentStream stream = connection.open(new Connect("proc_connect", id, after), what);
        Messages.Event first = next(stream);
        if (!first.is("ok") && !first.is("expired")) {
            throw new ProtocolException(what + ": unexpected event " + first);
        }
        return new ProcessOutput(stream, first.is("expired") ? first : null);
    }

    /** Queues one write for the process's stdin (or PTY); returns its number, counted from 1 per process. */
    public long input(String id, byte[] data) throws IOException {
        String what = "proc_input " + id;
        AgentStream stream = connection.open(new Ref("proc_input", id), what);
        try (OutputStream out = stream.output()) {
            out.write(data);
        }
        Messages.Event event = next(stream);
        return event.body().path("input_seq").asLong();
    }

    public void closeStdin(String id) throws IOException {
        call(new Ref("proc_close_stdin", id), "proc_close_stdin " + id);
    }

    public void resize(String id, int rows, int cols) throws IOException {
        call(new Resize("proc_resize", id, rows, cols), "proc_resize " + id);
    }

    /** Signals the process group (a pipe process) or the terminal's foreground group (a PTY). */
    public void signal(String id, String signal) throws IOException {
        call(new Signal("proc_signal", id, signal), "proc_signal " + id + " " + signal);
    }

    /** Waits until the leader ({@code tree} false) or the whole tree has exited, or {@code timeout} has passed. */
    public WaitResult await(String id, boolean tree, Duration timeout) throws IOException {
        // The agent answers when the wait is over: its own timeout plus the usual bound for an answer.
        AgentStream stream = connection.open(new Wait("proc_wait", id, tree ? "tree" : "leader", timeout.toMillis()),
                "proc_wait " + id);
        Messages.Event event = checked(stream, stream.nextEvent(timeout.plus(connection.answerTimeout())));
        return new WaitResult(event.body().path("done").asBoolean(), proc(event));
    }

    /** SIGTERM to the whole tree, {@code grace} for it to exit, then SIGKILL; returns once the tree is gone. */
    public ManagedProcessInfo kill(String id, Duration grace) throws IOException {
        AgentStream stream = connection.open(new Kill("proc_kill", id, grace.toMillis()), "proc_kill " + id);
        return proc(checked(stream, stream.nextEvent(grace.plus(connection.answerTimeout()))));
    }

    private Messages.Event call(Object request, String what) throws IOException {
        return next(connection.open(request, what));
    }

    private static Messages.Event next(AgentStream stream) throws IOException {
        return checked(stream, stream.nextAnswer());
    }

    private static Messages.Event checked(AgentStream stream, Messages.Event event) throws IOException {
        if (event.is("error")) {
            throw stream.errorOf(event);
        }
        return event;
    }

    private static ManagedProcessInfo proc(Messages.Event event) throws ProtocolException {
        return new Messages.Event("proc", event.body().path("proc")).as(ManagedProcessInfo.class);
    }
}
