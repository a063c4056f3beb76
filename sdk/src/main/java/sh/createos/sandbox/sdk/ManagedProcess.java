package sh.createos.sandbox.sdk;

import java.util.List;

/**
 * A managed process as the server reports it (interactive contract §5.1).
 *
 * @param processId {@code proc_…}
 * @param kind {@code process} (pipes) or {@code pty}
 * @param pid the leader's guest pid
 * @param state {@code starting}, {@code running}, {@code terminating}, {@code exited} or {@code failed}
 * @param leaderExited the leader has exited
 * @param treeExited the leader and every descendant have exited
 * @param createdAt RFC 3339
 * @param finishedAt RFC 3339 once exited or failed, else null
 * @param exitCode the leader's exit status, null while running or when a signal killed it
 * @param signal the signal that killed the leader, e.g. {@code SIGKILL}, or null
 * @param cmd the executable (null for a default-shell PTY)
 * @param args the arguments
 * @param cwd the working directory
 * @param foreground a PTY's foreground program, or null
 * @param output the retained output window
 */
public record ManagedProcess(String processId, String kind, int pid, String state, boolean leaderExited,
        boolean treeExited, String createdAt, String finishedAt, Integer exitCode, String signal, String cmd,
        List<String> args, String cwd, Foreground foreground, Output output) {

    /**
     * A PTY's foreground process group leader.
     *
     * @param pid its pid
     * @param cmd the program name, e.g. {@code vim}
     * @param args its arguments
     */
    public record Foreground(int pid, String cmd, List<String> args) {}

    /**
     * The retained output: sequence numbers of the oldest and newest data frame, and the bytes kept.
     *
     * @param oldestSeq the oldest retained frame
     * @param newestSeq the newest frame
     * @param bytes retained bytes
     */
    public record Output(long oldestSeq, long newestSeq, long bytes) {}
}
