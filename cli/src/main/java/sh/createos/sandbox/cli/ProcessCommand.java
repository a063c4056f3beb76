package sh.createos.sandbox.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.ManagedProcess;
import sh.createos.sandbox.sdk.ProcessEvent;
import sh.createos.sandbox.sdk.ProcessRequest;
import sh.createos.sandbox.sdk.ProcessStream;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb process|proc}: managed processes, detached commands whose output is kept and replayable. */
@Command(name = "process", aliases = "proc", mixinStandardHelpOptions = true,
        description = "Managed processes: detached commands in a sandbox with replayable output.")
final class ProcessCommand {
    static final List<Output.Column<ManagedProcess>> COLUMNS = List.of(
            new Output.Column<>("ID", ManagedProcess::processId, false),
            new Output.Column<>("STATE", ManagedProcess::state, false),
            new Output.Column<>("PID", ManagedProcess::pid, false),
            new Output.Column<>("EXIT", ManagedProcess::exitCode, false),
            new Output.Column<>("CMD", p -> p.cmd() + (p.args() == null || p.args().isEmpty() ? "" : " "
                    + String.join(" ", p.args())), false),
            new Output.Column<>("KIND", ManagedProcess::kind, true),
            new Output.Column<>("CREATED", ManagedProcess::createdAt, true));

    @Command(name = "start", aliases = {"run", "create"}, mixinStandardHelpOptions = true,
            description = "Start a detached command: sb process start SANDBOX -- CMD ARGS…")
    int start(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
              @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "after --") List<String> cmd,
              @Option(names = "--cwd", paramLabel = "DIR", description = "working directory") String cwd,
              @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "environment override (repeatable)") List<String> env) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ProcessRequest.Builder b = ProcessRequest.command(cmd.get(0)).args(cmd.subList(1, cmd.size()).toArray(String[]::new));
            if (cwd != null) {
                b.cwd(cwd);
            }
            if (env != null) {
                SandboxCommand.parseEnv(env).forEach(b::env);
            }
            ManagedProcess p = s.processes().start(b.build());
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("id", s.id());
            f.put("process_id", p.processId());
            f.put("process", p);
            Output.action("started", f, "Started " + p.processId() + " (pid " + p.pid() + ") in " + s.id());
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List a sandbox's managed processes.")
    int list(@Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            List<ManagedProcess> rows = Picker.sandbox(c, ref).processes().list();
            Output.rows(rows, COLUMNS, rows);
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one managed process.")
    int get(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
            @Parameters(index = "1", paramLabel = "PROCESS") String id) {
        try (SandboxClient c = CreateosCli.client()) {
            ManagedProcess p = SandboxCommand.resolve(c, ref).processes().get(id);
            Output.rows(List.of(p), COLUMNS, p);
            return 0;
        }
    }

    @Command(name = "logs", aliases = "attach", mixinStandardHelpOptions = true,
            description = {"Print a process's retained output (stdout and stderr as they came); -f follows it.",
                    "With -f the exit code is the process's own when it ends."})
    int logs(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1", paramLabel = "PROCESS") String id,
             @Option(names = {"-f", "--follow"}, description = "keep printing until the process ends") boolean follow) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ManagedProcess p = s.processes().get(id);
            long newest = p.output() == null ? 0 : p.output().newestSeq();
            boolean running = !p.leaderExited();
            if (!follow && running && newest <= 0) {
                return 0;
            }
            try (ProcessStream stream = s.processes().attach(id, 0)) {
                for (ProcessEvent e : stream) {
                    if (e instanceof ProcessEvent.Data d) {
                        (d.stream() != null && d.stream().equals("stderr") ? System.err : System.out)
                                .write(d.data(), 0, d.data().length);
                        System.out.flush();
                        System.err.flush();
                        if (!follow && running && d.seq() >= newest) {
                            return 0; // what was retained when we asked is out; it still runs
                        }
                    } else if (e instanceof ProcessEvent.Exit x) {
                        return follow && x.exitCode() != null ? x.exitCode() : 0;
                    } else if (e instanceof ProcessEvent.Error x) {
                        throw new CliException(ExitCodes.FAILURE, "process " + id + ": " + x.message());
                    } else if (!follow) {
                        return 0; // a heartbeat: everything retained is out, and it still runs
                    }
                }
            }
            return 0;
        }
    }

    @Command(name = "kill", aliases = {"rm", "stop"}, mixinStandardHelpOptions = true,
            description = "Terminate a process and its whole tree (TERM, then KILL after the grace time).")
    int kill(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1", paramLabel = "PROCESS") String id,
             @Option(names = "--grace", defaultValue = "5", paramLabel = "SECONDS", description = "default 5") long grace) {
        try (SandboxClient c = CreateosCli.client()) {
            ManagedProcess p = SandboxCommand.resolve(c, ref).processes().kill(id, Duration.ofSeconds(grace));
            Output.action("killed", Map.of("process_id", id, "state", String.valueOf(p.state())), "Killed " + id);
            return 0;
        }
    }

    @Command(name = "signal", mixinStandardHelpOptions = true, description = "Send a signal (e.g. TERM, INT, HUP) to a process.")
    int signal(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
               @Parameters(index = "1", paramLabel = "PROCESS") String id,
               @Parameters(index = "2", paramLabel = "SIGNAL") String signal) {
        try (SandboxClient c = CreateosCli.client()) {
            SandboxCommand.resolve(c, ref).processes().signal(id, signal);
            Output.action("signalled", Map.of("process_id", id, "signal", signal), "Sent " + signal + " to " + id);
            return 0;
        }
    }

    @Command(name = "input", mixinStandardHelpOptions = true, description = "Write text (and a newline unless -n) to a process's stdin.")
    int input(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
              @Parameters(index = "1", paramLabel = "PROCESS") String id,
              @Parameters(index = "2", paramLabel = "TEXT") String text,
              @Option(names = "-n", description = "no trailing newline") boolean noNewline,
              @Option(names = "--close", description = "close stdin afterwards (EOF)") boolean close) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            long n = s.processes().input(id, (noNewline ? text : text + "\n").getBytes(StandardCharsets.UTF_8));
            if (close) {
                s.processes().closeStdin(id);
            }
            Output.action("input", Map.of("process_id", id, "bytes", n), "Wrote " + n + " bytes to " + id);
            return 0;
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true, description = "Wait for a process to end; exits with its code (8 on timeout).")
    int await(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
              @Parameters(index = "1", paramLabel = "PROCESS") String id,
              @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", description = "default 300") long timeout,
              @Option(names = "--tree", description = "wait for the whole process tree, not only its leader") boolean tree) {
        try (SandboxClient c = CreateosCli.client()) {
            ManagedProcess p = SandboxCommand.resolve(c, ref).processes().waitFor(id, tree, Duration.ofSeconds(timeout));
            boolean done = tree ? p.treeExited() : p.leaderExited();
            if (!done) {
                throw new CliException(ExitCodes.TIMEOUT, "process " + id + " still runs after " + timeout + " s");
            }
            Output.action("exited", Map.of("process_id", id, "exit_code", p.exitCode() == null ? -1 : p.exitCode()),
                    id + " exited " + p.exitCode());
            return p.exitCode() == null ? ExitCodes.FAILURE : p.exitCode();
        }
    }
}
