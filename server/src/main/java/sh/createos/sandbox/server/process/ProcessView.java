package sh.createos.sandbox.server.process;

import java.time.Instant;
import java.util.List;
import sh.createos.sandbox.host.agent.ManagedProcessInfo;

/** The REST {@code ManagedProcess} (interactive-api.md §5.1), made from the agent's record. */
record ProcessView(String processId, String kind, int pid, String state, boolean leaderExited, boolean treeExited,
        String createdAt, String finishedAt, Integer exitCode, String signal, String cmd, List<String> args,
        String cwd, Foreground foreground, Output output) {

    record Foreground(int pid, String cmd, List<String> args) {}

    record Output(long oldestSeq, long newestSeq, long bytes) {}

    static ProcessView of(ManagedProcessInfo p) {
        String cmd = null;
        List<String> args = null;
        if (!p.shell() && p.argv() != null && !p.argv().isEmpty()) {
            cmd = p.argv().getFirst();
            args = p.argv().size() > 1 ? p.argv().subList(1, p.argv().size()) : null;
        }
        Foreground fg = p.foreground() == null ? null : new Foreground(p.foreground().pid(), p.foreground().cmd(),
                p.foreground().args() == null || p.foreground().args().isEmpty() ? null : p.foreground().args());
        ManagedProcessInfo.Output o = p.output();
        return new ProcessView(p.processId(), p.kind(), p.pid(), p.state(), p.leaderExited(), p.treeExited(),
                Instant.ofEpochMilli(p.createdAtMs()).toString(),
                p.finishedAtMs() == null ? null : Instant.ofEpochMilli(p.finishedAtMs()).toString(),
                p.signal() == null ? p.exitCode() : null, signalName(p.signal()), cmd, args, p.cwd(), fg,
                o == null ? new Output(0, 0, 0) : new Output(o.oldestSeq(), o.newestSeq(), o.bytes()));
    }

    /** The agent names signals without "SIG" ("KILL"); the REST API with it. */
    static String signalName(String agentName) {
        if (agentName == null) {
            return null;
        }
        return agentName.chars().allMatch(Character::isDigit) ? agentName : "SIG" + agentName;
    }
}
