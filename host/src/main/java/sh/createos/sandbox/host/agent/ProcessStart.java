package sh.createos.sandbox.host.agent;

import java.util.List;
import java.util.Map;

/**
 * What {@code proc_start} runs: {@code argv} without a shell, {@code env} over the agent's defaults, {@code cwd}
 * (null = the user's home), {@code user} (null = root), a PTY when {@code pty} is set; {@code shell} with an empty
 * argv runs the user's login shell (echoed in the view, so that the REST view can omit {@code cmd}).
 */
public record ProcessStart(List<String> argv, Map<String, String> env, String cwd, String user, PtySize pty,
        boolean shell) {
    public ProcessStart {
        argv = List.copyOf(argv);
        env = env == null ? Map.of() : Map.copyOf(env);
        if (argv.isEmpty() && !shell) {
            throw new IllegalArgumentException("argv must not be empty (unless the agent picks the default shell)");
        }
    }
}
