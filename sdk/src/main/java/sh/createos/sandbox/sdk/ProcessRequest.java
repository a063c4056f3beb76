package sh.createos.sandbox.sdk;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link Processes#start} starts: a command with pipes, or (with {@link Builder#pty}) a terminal; a PTY
 * without {@code cmd} runs the default login shell.
 */
public final class ProcessRequest {
    private final Map<String, Object> body;

    private ProcessRequest(Map<String, Object> body) {
        this.body = body;
    }

    /** A pipe process running {@code cmd} (not through a shell). */
    public static Builder command(String cmd) {
        return new Builder().cmd(cmd);
    }

    /** A PTY of {@code rows} × {@code cols} running the default shell (or {@link Builder#cmd}). */
    public static Builder pty(int rows, int cols) {
        return new Builder().pty(rows, cols);
    }

    Map<String, Object> body() {
        return body;
    }

    /** Collects the fields of a {@link ProcessRequest}. */
    public static final class Builder {
        private String cmd;
        private final List<String> args = new ArrayList<>();
        private String cwd;
        private final Map<String, String> env = new LinkedHashMap<>();
        private Map<String, Integer> pty;

        private Builder() {}

        /** The executable, resolved through PATH. */
        public Builder cmd(String cmd) {
            this.cmd = cmd;
            return this;
        }

        /** Appends arguments. */
        public Builder args(String... args) {
            this.args.addAll(List.of(args));
            return this;
        }

        /** The absolute working directory (default: the user's home). */
        public Builder cwd(String cwd) {
            this.cwd = cwd;
            return this;
        }

        /** Overrides an environment variable declared at create. */
        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        /** Makes it a PTY of this size. */
        public Builder pty(int rows, int cols) {
            Map<String, Integer> size = new LinkedHashMap<>();
            size.put("rows", rows);
            size.put("cols", cols);
            this.pty = size;
            return this;
        }

        /** The request. */
        public ProcessRequest build() {
            if (cmd == null && pty == null) {
                throw new IllegalArgumentException("a pipe process needs a cmd");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            if (cmd != null) {
                body.put("cmd", cmd);
            }
            if (!args.isEmpty()) {
                body.put("args", List.copyOf(args));
            }
            if (cwd != null) {
                body.put("cwd", cwd);
            }
            if (!env.isEmpty()) {
                body.put("env", Map.copyOf(env));
            }
            if (pty != null) {
                body.put("pty", pty);
            }
            return new ProcessRequest(body);
        }
    }
}
