package sh.createos.sandbox.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** A private tmux server (its own socket) whose windows run bash, for driving the real CLI in a real terminal. */
final class Tmux implements AutoCloseable {
    private final String socket = "cs-cli-test-" + ProcessHandle.current().pid();

    Tmux(Map<String, String> env, Path cwd) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("new-session", "-d", "-s", "t", "-n", "main", "-x", "120", "-y",
                "40", "-c", cwd.toString()));
        shell(cmd, env);
        tmux(cmd.toArray(String[]::new));
        // resize-window makes a window's size manual by itself (a global window-size manual crashes tmux 3.3a
        // on new-window).
        tmux("set-option", "-g", "history-limit", "5000");
    }

    void newWindow(String name, Map<String, String> env, Path cwd) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("new-window", "-d", "-t", "t", "-n", name, "-c", cwd.toString()));
        shell(cmd, env);
        tmux(cmd.toArray(String[]::new));
        tmux("resize-window", "-t", "t:" + name, "-x", "120", "-y", "40");
    }

    /** The window's program: bash under env(1), since tmux's own environment would override PATH from -e. */
    private static void shell(List<String> cmd, Map<String, String> env) {
        cmd.add("env");
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of("bash", "--norc", "--noprofile"));
    }

    /** Types a line and Enter. */
    void type(String window, String line) throws Exception {
        tmux("send-keys", "-t", "t:" + window, "-l", line);
        tmux("send-keys", "-t", "t:" + window, "Enter");
    }

    void keys(String window, String... keys) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("send-keys", "-t", "t:" + window));
        cmd.addAll(List.of(keys));
        tmux(cmd.toArray(String[]::new));
    }

    void resize(String window, int cols, int rows) throws Exception {
        tmux("resize-window", "-t", "t:" + window, "-x", String.valueOf(cols), "-y", String.valueOf(rows));
    }

    String screen(String window) throws Exception {
        return tmux("capture-pane", "-p", "-J", "-S", "-2000", "-t", "t:" + window);
    }

    /** Waits until the window's screen satisfies {@code test}; fails with the screen when it never does. */
    String awaitScreen(String window, Predicate<String> test, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String s;
        do {
            s = screen(window);
            if (test.test(s)) {
                return s;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("timed out waiting for " + what + "; the screen:\n" + s);
    }

    String tmux(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket, "-f", "/dev/null"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Waits for a file a command writes when it ends (e.g. its exit status), and returns its content. */
    static String awaitFile(Path f, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(f)) {
                String s = Files.readString(f);
                if (s.endsWith("\n")) {
                    return s.trim();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + f);
    }

    @Override
    public void close() throws Exception {
        tmux("kill-server");
    }
}
