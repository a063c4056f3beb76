package sh.createos.sandbox.host.agent;

import java.util.List;

/**
 * The agent's view of a managed process (the {@code proc} of the proc_* ops, docs/agent-protocol.md). Times are
 * guest clock milliseconds; {@code exitCode} is null when the leader has not exited or died by {@code signal} (a
 * name without "SIG", e.g. "KILL").
 */
public record ManagedProcessInfo(String processId, String kind, int pid, String state, boolean leaderExited,
        boolean treeExited, long createdAtMs, Long finishedAtMs, Integer exitCode, String signal, List<String> argv,
        boolean shell, String cwd, boolean stdinClosed, Foreground foreground, Output output) {

    /** The PTY's foreground process group leader. */
    public record Foreground(int pid, String cmd, List<String> args) {}

    /** The retained output window: chunks {@code oldestSeq..newestSeq}, {@code bytes} raw bytes; all 0 before any. */
    public record Output(long oldestSeq, long newestSeq, long bytes) {}

    public boolean isPty() {
        return "pty".equals(kind);
    }
}
