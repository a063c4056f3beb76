package sh.createos.sandbox.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.ExecEvent;
import sh.createos.sandbox.sdk.ExecRequest;
import sh.createos.sandbox.sdk.ExecStream;
import sh.createos.sandbox.sdk.ManagedProcess;
import sh.createos.sandbox.sdk.ProcessEvent;
import sh.createos.sandbox.sdk.ProcessStream;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb logs}, {@code sb edit} and {@code sb self}: sandbox verbs that came with the sync release. */
final class MoreSandboxVerbs {
    private MoreSandboxVerbs() {}

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = {"Show a sandbox's logs: its kernel console (the guest's ring buffer, read through exec)",
                    "and the output of its managed processes (`sb process`), each line prefixed by its source.",
                    "-f follows them until Ctrl-C."})
    static final class Logs implements java.util.concurrent.Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX", description = "id or name (asked when omitted on a terminal)")
        String ref;

        @Option(names = {"-f", "--follow"}, description = "keep printing new lines")
        boolean follow;

        @Option(names = {"-p", "--process"}, paramLabel = "ID", description = "only this managed process (repeatable)")
        List<String> processes;

        @Option(names = "--no-console", description = "leave out the kernel console")
        boolean noConsole;

        @Option(names = "--no-prefix", description = "print lines without their [source] prefix")
        boolean noPrefix;

        @Override
        public Integer call() throws Exception {
            try (SandboxClient c = CreateosCli.client()) {
                Sandbox s = Picker.sandbox(c, ref);
                List<Thread> threads = new ArrayList<>();
                if (!noConsole && processes == null) {
                    threads.add(Thread.ofPlatform().daemon().start(() -> console(s)));
                }
                List<ManagedProcess> procs = s.processes().list().stream()
                        .filter(p -> processes == null || processes.contains(p.processId())).toList();
                if (processes != null) {
                    for (String id : processes) {
                        if (procs.stream().noneMatch(p -> p.processId().equals(id))) {
                            throw new CliException(ExitCodes.NOT_FOUND, "no managed process " + id + " in " + s.id());
                        }
                    }
                }
                for (ManagedProcess p : procs) {
                    threads.add(Thread.ofPlatform().daemon().start(() -> process(s, p)));
                }
                for (Thread t : threads) {
                    t.join();
                }
                return 0;
            }
        }

        private void console(Sandbox s) {
            List<String> argv = follow ? List.of("-c", "dmesg -w 2>/dev/null || dmesg") : List.of("-c", "dmesg");
            try (ExecStream stream = s.streamCommand(ExecRequest.builder("sh").args(argv).build())) {
                StringBuilder partial = new StringBuilder();
                for (ExecEvent e : stream) {
                    if (e instanceof ExecEvent.Stdout o) {
                        emit("console", partial, o.data());
                    } else if (e instanceof ExecEvent.Exit || e instanceof ExecEvent.Error) {
                        break;
                    }
                }
                flushPartial("console", partial);
            }
        }

        private void process(Sandbox s, ManagedProcess p) {
            String tag = p.processId() + (p.cmd() == null ? "" : " " + p.cmd());
            long newest = p.output() == null ? 0 : p.output().newestSeq();
            boolean running = !p.leaderExited();
            if (!follow && running && newest <= 0) {
                return; // nothing retained yet
            }
            try (ProcessStream stream = s.processes().attach(p.processId(), 0)) {
                StringBuilder partial = new StringBuilder();
                for (ProcessEvent e : stream) {
                    if (e instanceof ProcessEvent.Data d) {
                        emit(tag, partial, new String(d.data(), StandardCharsets.UTF_8));
                        if (!follow && running && d.seq() >= newest) {
                            break; // what was retained when we asked is out; it still runs
                        }
                    } else if (e instanceof ProcessEvent.Exit || e instanceof ProcessEvent.Error) {
                        break;
                    } else if (!follow && e instanceof ProcessEvent.Heartbeat) {
                        break; // replayed what there is; the process still runs
                    }
                }
                flushPartial(tag, partial);
            }
        }

        private synchronized void emit(String tag, StringBuilder partial, String chunk) {
            partial.append(chunk);
            int nl;
            while ((nl = partial.indexOf("\n")) >= 0) {
                print(tag, partial.substring(0, nl));
                partial.delete(0, nl + 1);
            }
        }

        private synchronized void flushPartial(String tag, StringBuilder partial) {
            if (!partial.isEmpty()) {
                print(tag, partial.toString());
                partial.setLength(0);
            }
        }

        private void print(String tag, String line) {
            String text = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (Globals.structured()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("source", tag.equals("console") ? "console" : tag.split(" ")[0]);
                m.put("line", text);
                try {
                    Output.out().println(Output.JSON.writer()
                            .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(m));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                Output.out().println(noPrefix ? text : "[" + tag + "] " + text);
            }
            Output.out().flush();
        }
    }

    @Command(name = "edit", mixinStandardHelpOptions = true,
            description = "Change a sandbox's settings: public ingress and idle auto-pause (PATCH /v1/sandboxes/{id}).")
    static final class Edit implements java.util.concurrent.Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX", description = "id or name (asked when omitted on a terminal)")
        String ref;

        @Option(names = "--ingress", negatable = true, description = "enable (--ingress) or disable (--no-ingress) the public URLs")
        Boolean ingress;

        @Option(names = "--auto-pause", paramLabel = "SECONDS", description = "pause after this idle time")
        Long autoPause;

        @Option(names = "--no-auto-pause", description = "never pause on idle")
        boolean noAutoPause;

        @Override
        public Integer call() {
            if (ingress == null && autoPause == null && !noAutoPause) {
                throw new CliException(ExitCodes.USAGE, "nothing to change: pass --ingress/--no-ingress, "
                        + "--auto-pause SECONDS or --no-auto-pause");
            }
            if (autoPause != null && noAutoPause) {
                throw new CliException(ExitCodes.USAGE, "--auto-pause and --no-auto-pause exclude each other");
            }
            try (SandboxClient c = CreateosCli.client()) {
                Sandbox s = Picker.sandbox(c, ref);
                if (ingress != null) {
                    s = s.setIngress(ingress);
                }
                if (autoPause != null) {
                    s = s.setAutoPause(Duration.ofSeconds(autoPause));
                } else if (noAutoPause) {
                    s = s.setAutoPause(null);
                }
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("id", s.id());
                f.put("sandbox", s.data());
                Output.action("updated", f, "Updated " + s.id());
                return 0;
            }
        }
    }

    @Command(name = "self", mixinStandardHelpOptions = true,
            description = {"From inside a sandbox: pause or delete this very sandbox through the guest agent",
                    "(http://127.0.0.1:1029/self/{pause|delete}, no API key; the FIFO /run/self when that fails)."},
            subcommands = {Self.Pause.class, Self.Delete.class})
    static final class Self {
        static final String AGENT = System.getenv().getOrDefault("CREATEOS_SELF_URL", "http://127.0.0.1:1029");

        static int signal(String action, String fifoWord, String reason) throws Exception {
            String url = AGENT + "/self/" + action
                    + (reason == null ? "" : "?reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8));
            String how;
            try {
                HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                        .send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 202 && r.statusCode() != 200) {
                    throw new CliException(ExitCodes.FAILURE, "self-" + action + " failed: HTTP " + r.statusCode()
                            + " " + r.body());
                }
                how = "agent";
            } catch (IOException e) {
                Path fifo = Path.of(System.getenv().getOrDefault("CREATEOS_SELF_FIFO", "/run/self"));
                if (!Files.exists(fifo)) {
                    throw new CliException(ExitCodes.FAILURE, "self-" + action + ": the guest agent is not reachable at "
                            + AGENT + " (" + e.getMessage() + ") and there is no " + fifo + ": not inside a sandbox?");
                }
                Files.writeString(fifo, fifoWord + "\n");
                how = "fifo";
            }
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("via", how);
            if (reason != null) {
                f.put("reason", reason);
            }
            Output.action("self_" + action, f, "Asked to " + action + " this sandbox.");
            return 0;
        }

        @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause this sandbox (resume it from outside).")
        static final class Pause implements java.util.concurrent.Callable<Integer> {
            @Option(names = "--reason", paramLabel = "TEXT", description = "recorded with the action (128 chars)")
            String reason;

            @Override
            public Integer call() throws Exception {
                return signal("pause", "park", reason);
            }
        }

        @Command(name = "delete", aliases = "destroy", mixinStandardHelpOptions = true, description = "Destroy this sandbox.")
        static final class Delete implements java.util.concurrent.Callable<Integer> {
            @Option(names = "--reason", paramLabel = "TEXT", description = "recorded with the action (128 chars)")
            String reason;

            @Override
            public Integer call() throws Exception {
                return signal("delete", "retire", reason);
            }
        }
    }
}
