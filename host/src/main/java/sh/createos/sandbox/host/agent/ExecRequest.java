package sh.createos.sandbox.host.agent;

import java.util.List;
import java.util.Map;

/**
 * A process to start in the guest. {@code env} is merged over the agent's default environment; null {@code cwd}
 * means the user's home, null {@code user} means root, null {@code pty} means pipes, and {@code stdin} false
 * connects the process's stdin to /dev/null.
 */
public record ExecRequest(List<String> argv, Map<String, String> env, String cwd, String user, PtySize pty, boolean stdin) {
    public ExecRequest {
        if (argv == null || argv.isEmpty()) {
            throw new IllegalArgumentException("exec needs a non-empty argv");
        }
        argv = List.copyOf(argv);
        env = env == null ? Map.of() : Map.copyOf(env);
    }

    public static ExecRequest of(String... argv) {
        return new ExecRequest(List.of(argv), Map.of(), null, null, null, false);
    }

    public ExecRequest withEnv(Map<String, String> env) {
        return new ExecRequest(argv, env, cwd, user, pty, stdin);
    }

    public ExecRequest withCwd(String cwd) {
        return new ExecRequest(argv, env, cwd, user, pty, stdin);
    }

    public ExecRequest withUser(String user) {
        return new ExecRequest(argv, env, cwd, user, pty, stdin);
    }

    public ExecRequest withPty(PtySize pty) {
        return new ExecRequest(argv, env, cwd, user, pty, stdin);
    }

    public ExecRequest withStdin(boolean stdin) {
        return new ExecRequest(argv, env, cwd, user, pty, stdin);
    }
}
