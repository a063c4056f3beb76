package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.host.agent.PtySize;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * A shell or an exec request, run in the guest by the agent: the login user's shell ({@code $SHELL -l} for a shell,
 * {@code $SHELL -c COMMAND} for exec, as sshd does), with a PTY when the client asked for one (resized on
 * window-change), signals passed on, the sandbox's envs plus the accepted {@code env} requests, and the real exit
 * status (128+n when a signal ended it). If the guest cannot be reached, the reason goes to stderr and the status
 * is 255, like ssh's own failures.
 */
final class GuestCommand implements Command {
    private static final Logger log = LoggerFactory.getLogger(GuestCommand.class);
    static final int GATEWAY_FAILURE = 255;

    private final GatewaySessions sessions;
    private final GuestAccess access;
    /** null: an interactive shell. */
    private final String command;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private volatile ExecSession process;
    private volatile boolean destroyed;

    GuestCommand(GatewaySessions sessions, GuestAccess access, String command) {
        this.sessions = sessions;
        this.access = access;
        this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
        this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
        Thread.ofVirtual().name("ssh-" + (command == null ? "shell" : "exec")).start(() -> run(channel, env));
    }

    private void run(ChannelSession channel, Environment env) {
        SshLogin login = channel.getSession().getAttribute(SshLogin.KEY);
        boolean pty = channel instanceof GuestChannelSession g && g.hasPty();
        RunningSandbox running;
        try {
            running = sessions.attach(channel.getSession());
        } catch (SshRefusal refusal) {
            fail(refusal.getMessage());
            return;
        }
        Map<String, String> environment = new HashMap<>(running.sandbox().envs());
        env.getEnv().forEach((k, v) -> {
            if (GuestChannelSession.accepted(k)) {
                environment.put(k, v);
            }
        });
        List<String> argv = command == null
                ? List.of("/bin/sh", "-c", "exec \"${SHELL:-/bin/sh}\" -l")
                : List.of("/bin/sh", "-c", "exec \"${SHELL:-/bin/sh}\" -c \"$1\"", "sh", command);
        ExecRequest request = new ExecRequest(argv, environment, null, login.guestUser(),
                pty ? size(env) : null, true);
        ExecSession session;
        try {
            session = running.agent().exec(request);
        } catch (IOException e) {
            fail(command == null ? "cannot start a shell: " + e.getMessage() : e.getMessage());
            return;
        }
        process = session;
        if (destroyed) {
            session.close();
            return;
        }
        env.addSignalListener((ch, signal) -> {
            try {
                if (signal == Signal.WINCH) {
                    PtySize size = size(env);
                    session.resize(size.rows(), size.cols());
                } else {
                    session.signal(signal.name());
                }
            } catch (IOException | RuntimeException e) {
                log.debug("passing {} on: {}", signal, e.toString());
            }
        });
        Thread input = Thread.ofVirtual().name("ssh-stdin").start(() -> pump(in, session.stdin(), true));
        Thread stderr = Thread.ofVirtual().name("ssh-stderr").start(() -> pump(session.stderr(), err, false));
        pump(session.stdout(), out, false);
        try {
            stderr.join();
            ExitStatus status = session.waitFor();
            input.interrupt();
            flush();
            exit.onExit(status.code(), status.signal() == null ? "" : "killed by SIG" + status.signal());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            Exception why = access.sandboxes().explainLostAgent(login.sandboxId(), e);
            fail(why.getMessage());
        } finally {
            session.close();
        }
    }

    private static PtySize size(Environment env) {
        return new PtySize(dimension(env, Environment.ENV_LINES, 24), dimension(env, Environment.ENV_COLUMNS, 80));
    }

    private static int dimension(Environment env, String name, int fallback) {
        try {
            int value = Integer.parseInt(env.getEnv().getOrDefault(name, ""));
            return value > 0 && value <= 65_535 ? value : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** Copies until EOF; closes the target when {@code closeTarget} (stdin: EOF reaches the process). */
    private static void pump(InputStream from, OutputStream to, boolean closeTarget) {
        byte[] buffer = new byte[32 * 1024];
        try {
            for (int n; (n = from.read(buffer)) >= 0; ) {
                to.write(buffer, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            log.trace("ssh stream ended: {}", e.toString());
        } finally {
            if (closeTarget) {
                try {
                    to.close();
                } catch (IOException e) {
                    log.trace("closing stdin: {}", e.toString());
                }
            }
        }
    }

    private void flush() {
        try {
            out.flush();
            err.flush();
        } catch (IOException e) {
            log.trace("flushing: {}", e.toString());
        }
    }

    private void fail(String message) {
        try {
            err.write(("createos-sandbox: " + message + "\r\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException e) {
            log.trace("reporting '{}': {}", message, e.toString());
        }
        exit.onExit(GATEWAY_FAILURE, message);
    }

    @Override
    public void destroy(ChannelSession channel) {
        destroyed = true;
        ExecSession running = process;
        if (running != null) {
            running.close();
        }
    }
}
