package sh.createos.sandbox.server.shell;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExecStartException;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.host.agent.PtySize;
import sh.createos.sandbox.server.http.ApiException;

/**
 * One interactive guest shell on a PTY (interactive-api.md §2.5), shared by {@code /shell} and {@code /shell-ws}:
 * the default user's login shell from {@code /etc/passwd} (else bash, else sh) in a new session, started at the
 * client's size with its {@code TERM}.
 *
 * <p>Ending it: the shell's session is the unit. When the client leaves, every process of the session gets
 * SIGHUP and, 5 s later, SIGKILL; when the shell exits on its own, what it left in its session (background jobs)
 * gets the same. Processes the user detached into a session of their own ({@code setsid}, daemons) keep running.
 */
public final class ShellSession implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShellSession.class);
    static final Pattern TERM = Pattern.compile("[A-Za-z0-9._+-]{1,64}");
    public static final String DEFAULT_TERM = "xterm-256color";
    /** The agent sets SHELL from the user's /etc/passwd entry. {@code exec} keeps the pid: the session id. */
    private static final String LOGIN_SHELL = "s=\"$SHELL\"; [ -x \"$s\" ] || s=/bin/bash; [ -x \"$s\" ] || s=/bin/sh;"
            + " cd \"$HOME\" 2>/dev/null; exec \"$s\" -l";
    /** SIGHUP to the session, up to 5 s for it to go, SIGKILL to what is left. */
    private static final String REAP = "sid=%d; pkill -HUP -s $sid; i=0; while [ $i -lt 50 ] && pgrep -s $sid"
            + " >/dev/null; do sleep 0.1; i=$((i+1)); done; pkill -KILL -s $sid; exit 0";

    private final AgentClient agent;
    private final ExecSession exec;
    private final OutputStream stdin;

    private ShellSession(AgentClient agent, ExecSession exec) {
        this.agent = agent;
        this.exec = exec;
        this.stdin = exec.stdin();
    }

    /** A TERM from the client: checked, so it cannot smuggle anything into the environment. */
    public static String term(String requested) {
        if (requested == null || requested.isBlank()) {
            return DEFAULT_TERM;
        }
        if (!TERM.matcher(requested).matches()) {
            throw ApiException.badRequest("term must be 1-64 letters, digits or ._+-, not '" + requested + "'");
        }
        return requested;
    }

    /**
     * @throws ApiException 502 when the agent cannot start it
     */
    public static ShellSession start(AgentClient agent, Map<String, String> envs, String term, int rows, int cols) {
        Map<String, String> env = new HashMap<>(envs);
        env.put("TERM", term);
        ExecRequest request = new ExecRequest(List.of("/bin/sh", "-c", LOGIN_SHELL), env, null, null,
                new PtySize(rows <= 0 ? 24 : rows, cols <= 0 ? 80 : cols), true);
        try {
            return new ShellSession(agent, agent.exec(request));
        } catch (ExecStartException e) {
            throw new ApiException(502, "HOST_UNREACHABLE", "the guest could not start a shell: " + e.getMessage());
        } catch (IOException e) {
            throw new ApiException(502, "HOST_UNREACHABLE", "the sandbox agent is unreachable: " + e.getMessage());
        }
    }

    /** Raw PTY output until the shell exited and the terminal drained (or the agent is lost: an IOException). */
    public InputStream output() {
        return exec.stdout();
    }

    public synchronized void input(byte[] bytes, int off, int len) throws IOException {
        if (len > 0) {
            stdin.write(bytes, off, len);
        }
    }

    /** A zero dimension is ignored (interactive-api.md §2.2). */
    public void resize(int rows, int cols) throws IOException {
        if (rows > 0 && cols > 0) {
            exec.resize(Math.min(rows, 65535), Math.min(cols, 65535));
        }
    }

    /** The shell's exit; call after {@link #output()} ended. */
    public ExitStatus exitStatus(long timeoutMs) throws IOException, InterruptedException, TimeoutException {
        try {
            return exec.onExit().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("the shell's agent stream failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    public boolean exited() {
        return exec.onExit().isDone();
    }

    /**
     * The client went away: hang the session up and wait (bounded) for the shell to go; if it will not, abort the
     * exec, which kills its whole process tree. Runs on the calling thread; safe to call more than once.
     */
    public void hangUp() {
        if (!exited()) {
            reapSession();
            try {
                exec.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("shell {} did not exit after SIGHUP + SIGKILL: {}", exec.pid(), e.toString());
            }
        }
        close();
    }

    /** The shell exited: SIGHUP (then SIGKILL) what it left in its session, in the background. */
    public void reapLeftovers() {
        Thread.ofVirtual().name("shell-reap " + exec.pid()).start(this::reapSession);
    }

    private void reapSession() {
        try {
            var result = agent.run(ExecRequest.of("/bin/sh", "-c", REAP.formatted(exec.pid())));
            if (result.exitCode() != 0) {
                log.warn("ending the session of shell {} failed (sh -c 'pkill …'): {}", exec.pid(),
                        result.stderr());
            }
        } catch (IOException e) {
            log.debug("ending the session of shell {}: {}", exec.pid(), e.toString());
        }
    }

    @Override
    public void close() {
        exec.close();
    }

    public int pid() {
        return exec.pid();
    }
}
