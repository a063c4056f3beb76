package sh.createos.sandbox.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
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
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.SandboxView;
import sh.createos.sandbox.model.Shape;
import sh.createos.sandbox.sdk.CreateSandboxRequest;
import sh.createos.sandbox.sdk.ExecEvent;
import sh.createos.sandbox.sdk.ExecRequest;
import sh.createos.sandbox.sdk.ExecStream;
import sh.createos.sandbox.sdk.NotFoundException;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code createos sandbox|sb}: the sandbox verbs. */
@Command(name = "sandbox", aliases = "sb", mixinStandardHelpOptions = true, subcommands = {CopyCommand.class, SyncCommand.class,
                MoreSandboxVerbs.Logs.class, MoreSandboxVerbs.Edit.class, MoreSandboxVerbs.Self.class,
                ProcessCommand.class, NetworkCommand.class, DiskCommand.class, FirewallCommand.class,
                TemplateCommand.class, DesktopCommand.class, ComputerCommand.class},
        description = "Create, use and remove sandboxes. SANDBOX is an id or a name.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0 ok, 1 failure, 2 usage, 4 auth, 5 not found, 6 conflict/state, 8 timeout;",
                "  exec and shell return the remote command's code."})
final class SandboxCommand {

    static final List<Output.Column<SandboxView>> COLUMNS = List.of(
            new Output.Column<>("ID", SandboxView::id, false),
            new Output.Column<>("NAME", SandboxView::name, false),
            new Output.Column<>("STATUS", v -> v.status().wire(), false),
            new Output.Column<>("SHAPE", SandboxView::shape, false),
            new Output.Column<>("IP", SandboxView::ip, false),
            new Output.Column<>("ROOTFS", SandboxView::rootfs, true),
            new Output.Column<>("VCPU", SandboxView::vcpu, true),
            new Output.Column<>("MEM_MIB", SandboxView::memMib, true),
            new Output.Column<>("DISK_MIB", SandboxView::diskMib, true),
            new Output.Column<>("CREATED", SandboxView::createdAt, true));

    static final String PICK = "id or name (picked from a list when omitted on a terminal)";

    /** A sandbox by id or by name (a name that two sandboxes share is refused). */
    static Sandbox resolve(SandboxClient c, String ref) {
        List<Sandbox> named = new ArrayList<>();
        for (Sandbox s : c.listSandboxes()) {
            if (s.status() == SandboxStatus.DESTROYED) {
                continue;
            }
            if (s.id().equals(ref)) {
                return s;
            }
            if (ref.equals(s.data().name())) {
                named.add(s);
            }
        }
        if (named.size() == 1) {
            return named.get(0);
        }
        if (named.size() > 1) {
            throw new CliException(ExitCodes.CONFLICT, "the name '" + ref + "' matches " + named.size()
                    + " sandboxes; use an id");
        }
        try {
            return c.getSandbox(ref);
        } catch (NotFoundException e) {
            throw new CliException(ExitCodes.NOT_FOUND, "no sandbox with id or name '" + ref + "'");
        }
    }

    static void view(Sandbox s) {
        if (Globals.structured()) {
            Output.structured(s.data());
        } else {
            Output.rows(List.of(s.data()), COLUMNS, s.data());
        }
    }

    @Command(name = "create", aliases = "c", mixinStandardHelpOptions = true, description = "Create a sandbox.")
    int create(@Option(names = "--shape", description = "machine size, e.g. s-1vcpu-512mb (see `sb shapes`)") String shape,
               @Option(names = "--rootfs", description = "root file system image (see `sb rootfs`)") String rootfs,
               @Option(names = "--name", description = "a name to refer to it by") String name,
               @Option(names = "--disk", paramLabel = "MIB", description = "disk size in MiB") Integer diskMib,
               @Option(names = "--env", paramLabel = "K=V", description = "environment variable (repeatable)") List<String> env,
               @Option(names = "--egress", paramLabel = "RULE", description = "egress allow rule (repeatable)") List<String> egress,
               @Option(names = "--network", paramLabel = "ID", description = "private network to join") String network,
               @Option(names = "--ssh-pubkey", paramLabel = "KEY", description = "SSH public key for the default user") String sshKey,
               @Option(names = "--ingress", description = "enable public ingress") boolean ingress,
               @Option(names = "--auto-pause", paramLabel = "SECONDS", description = "pause after this idle time") Long autoPause,
               @Option(names = "--wait", negatable = true, defaultValue = "true",
                       description = "wait until it runs (default; --no-wait returns at once)") boolean waitRunning) {
        try (SandboxClient c = CreateosCli.client()) {
            CreateSandboxRequest.Builder b = CreateSandboxRequest.builder();
            String sh = CreateosCli.first(shape, CreateosCli.profileDefault("shape"));
            if (sh == null) {
                throw new CliException(ExitCodes.USAGE, "--shape is required (see `sb shapes`)");
            }
            b.shape(sh);
            String rf = CreateosCli.first(rootfs, CreateosCli.profileDefault("rootfs"));
            if (rf != null) {
                b.rootfs(rf);
            }
            if (name != null) {
                b.name(name);
            }
            if (diskMib != null) {
                b.diskMib(diskMib);
            }
            if (env != null) {
                b.envs(parseEnv(env));
            }
            if (egress != null) {
                b.egress(egress);
            }
            if (network != null) {
                b.network(network);
            }
            if (sshKey != null) {
                b.sshPubkey(sshKey);
            }
            if (ingress) {
                b.ingressEnabled(true);
            }
            if (autoPause != null) {
                b.autoPauseAfter(Duration.ofSeconds(autoPause));
            }
            Sandbox s = c.createSandbox(b.build());
            if (waitRunning) {
                s = s.waitUntilRunning(Duration.ofMinutes(5));
            }
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("id", s.id());
            f.put("sandbox", s.data());
            Output.action("created", f, "Created " + s.id() + (name == null ? "" : " (" + name + ")") + ", "
                    + s.status().wire());
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List sandboxes.")
    int list(@Option(names = {"-q", "--quiet"}, description = "ids only") boolean quiet,
             @Option(names = {"-a", "--all"}, description = "include destroyed sandboxes") boolean all,
             @Option(names = "--status", description = "only this status (running, paused, …)") String status) {
        try (SandboxClient c = CreateosCli.client()) {
            SandboxStatus st = null;
            if (status != null) {
                try {
                    st = SandboxStatus.fromWire(status);
                } catch (IllegalArgumentException e) {
                    throw new CliException(ExitCodes.USAGE, e.getMessage());
                }
            }
            List<SandboxView> rows = new ArrayList<>();
            for (Sandbox s : c.listSandboxes(st)) {
                if (all || st != null || s.status() != SandboxStatus.DESTROYED) {
                    rows.add(s.data());
                }
            }
            if (quiet) {
                rows.forEach(r -> Output.out().println(r.id()));
                Output.out().flush();
                return 0;
            }
            Output.rows(rows, COLUMNS, rows);
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a sandbox.")
    int get(@Parameters(arity = "0..1", paramLabel = "SANDBOX", description = PICK) String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            view(Picker.sandbox(c, ref));
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete", "destroy"}, mixinStandardHelpOptions = true,
            description = "Destroy sandboxes (-f is required when stdin is not a terminal).")
    int rm(@Parameters(paramLabel = "SANDBOX", arity = "1..*") List<String> refs,
           @Option(names = {"-f", "--force"}, description = "do not ask") boolean force) throws IOException {
        try (SandboxClient c = CreateosCli.client()) {
            List<Sandbox> targets = refs.stream().map(r -> resolve(c, r)).toList();
            if (!force) {
                if (System.console() == null || !System.console().isTerminal()) {
                    throw new CliException(ExitCodes.USAGE, "refusing to destroy without -f when not interactive");
                }
                System.err.print("Destroy " + String.join(", ", targets.stream().map(Sandbox::id).toList()) + "? [y/N] ");
                String answer = new BufferedReader(new InputStreamReader(System.in)).readLine();
                if (answer == null || !answer.trim().toLowerCase().startsWith("y")) {
                    throw new CliException(ExitCodes.FAILURE, "aborted");
                }
            }
            for (Sandbox s : targets) {
                s.destroy();
                Output.action("destroyed", Map.of("id", s.id()), "Destroyed " + s.id());
            }
            return 0;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a running sandbox.")
    int pause(@Parameters(arity = "0..1", paramLabel = "SANDBOX", description = PICK) String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = Picker.sandbox(c, ref).pause();
            Output.action("paused", Map.of("id", s.id(), "status", s.status().wire()), "Paused " + s.id());
            return 0;
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused sandbox.")
    int resume(@Parameters(arity = "0..1", paramLabel = "SANDBOX", description = PICK) String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = Picker.sandbox(c, ref).resume();
            Output.action("resumed", Map.of("id", s.id(), "status", s.status().wire()), "Resumed " + s.id());
            return 0;
        }
    }

    @Command(name = "fork", mixinStandardHelpOptions = true, description = "Fork a sandbox (a copy of its state).")
    int fork(@Parameters(arity = "0..1", paramLabel = "SANDBOX", description = PICK) String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox src = Picker.sandbox(c, ref);
            Sandbox s = src.fork();
            Output.action("forked", Map.of("id", s.id(), "forked_from", src.id(), "status", s.status().wire()),
                    "Forked " + src.id() + " into " + s.id());
            return 0;
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true,
            description = "Run a command in a sandbox; exits with its exit code.")
    int exec(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "after --") List<String> cmd,
             @Option(names = "--stdin", paramLabel = "FILE|-", description = "feed the command this file or stdin") String stdin,
             @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "environment variable (repeatable)") List<String> env)
            throws IOException {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = resolve(c, ref);
            ExecRequest.Builder b = ExecRequest.builder(cmd.get(0)).args(cmd.subList(1, cmd.size()));
            if (stdin != null) {
                if (stdin.equals("-")) {
                    b.stdin(System.in);
                } else {
                    b.stdin(Path.of(stdin));
                }
            }
            if (env != null) {
                parseEnv(env).forEach(b::env);
            }
            try (ExecStream stream = s.streamCommand(b.build())) {
                for (ExecEvent e : stream) {
                    switch (e) {
                        case ExecEvent.Stdout o -> {
                            System.out.print(o.data());
                            System.out.flush();
                        }
                        case ExecEvent.Stderr o -> {
                            System.err.print(o.data());
                            System.err.flush();
                        }
                        case ExecEvent.Exit x -> {
                            return x.exitCode();
                        }
                        case ExecEvent.Error x -> throw new CliException(ExitCodes.FAILURE, "exec: " + x.message());
                        case ExecEvent.Heartbeat h -> { }
                    }
                }
            }
            throw new CliException(ExitCodes.FAILURE, "exec: the stream ended without an exit status");
        }
    }

    @Command(name = "push", aliases = "upload", mixinStandardHelpOptions = true,
            description = "Upload a local file (- for stdin) to a path in the sandbox, streamed.")
    int push(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1", paramLabel = "LOCAL") String local,
             @Parameters(index = "2", paramLabel = "REMOTE") String remote) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = resolve(c, ref);
            long size;
            if (local.equals("-")) {
                CountingInputStream in = new CountingInputStream(System.in);
                s.files().upload(remote, in);
                size = in.count;
            } else {
                Path p = Path.of(local);
                if (!Files.isRegularFile(p)) {
                    throw new CliException(ExitCodes.NOT_FOUND, "no such local file: " + local);
                }
                size = p.toFile().length();
                if (Progress.stderrIsTerminal()) {
                    try (Progress bar = new Progress("push " + local, size);
                         InputStream in = bar.wrap(Files.newInputStream(p))) {
                        s.files().upload(remote, in);
                    } catch (IOException e) {
                        throw new CliException(ExitCodes.FAILURE, "reading " + local + ": " + e.getMessage());
                    }
                } else {
                    s.files().upload(remote, p);
                }
            }
            Output.action("uploaded", Map.of("id", s.id(), "path", remote, "bytes", size),
                    "Uploaded " + size + " bytes to " + s.id() + ":" + remote);
            return 0;
        }
    }

    @Command(name = "pull", aliases = "download", mixinStandardHelpOptions = true,
            description = "Download a file from the sandbox to a local path (- for stdout), streamed.")
    int pull(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1", paramLabel = "REMOTE") String remote,
             @Parameters(index = "2", paramLabel = "LOCAL", defaultValue = "-") String local) throws IOException {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = resolve(c, ref);
            if (local.equals("-")) {
                try (InputStream in = s.files().download(remote)) {
                    OutputStream out = System.out;
                    in.transferTo(out);
                    out.flush();
                }
                return 0;
            }
            long n;
            if (Progress.stderrIsTerminal()) {
                try (Progress bar = new Progress("pull " + remote, -1);
                     InputStream in = bar.wrap(s.files().download(remote))) {
                    n = Files.copy(in, Path.of(local), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            } else {
                n = s.files().download(remote, Path.of(local));
            }
            Output.action("downloaded", Map.of("id", s.id(), "path", remote, "local", local, "bytes", n),
                    "Downloaded " + n + " bytes to " + local);
            return 0;
        }
    }

    @Command(name = "shapes", mixinStandardHelpOptions = true, description = "List machine shapes.")
    int shapes() {
        try (SandboxClient c = CreateosCli.client()) {
            List<Shape> rows = c.listShapes();
            Output.rows(rows, List.of(new Output.Column<Shape>("ID", Shape::id, false),
                    new Output.Column<Shape>("VCPU", Shape::vcpu, false),
                    new Output.Column<Shape>("MEM_MIB", Shape::memMib, false),
                    new Output.Column<Shape>("DISK_MIB", Shape::defaultDiskMib, false),
                    new Output.Column<Shape>("CPU_QUOTA_PCT", Shape::cpuQuotaPct, true)), rows);
            return 0;
        }
    }

    @Command(name = "rootfs", mixinStandardHelpOptions = true, description = "List root file system images.")
    int rootfs() {
        try (SandboxClient c = CreateosCli.client()) {
            var data = c.listRootfs();
            Output.rows(data.rootfs(), List.of(new Output.Column<String>("ROOTFS", r -> r, false),
                    new Output.Column<String>("DEFAULT", r -> r.equals(data.defaultRootfs()) ? "*" : "", false)), data);
            return 0;
        }
    }

    @Command(name = "wait", mixinStandardHelpOptions = true,
            description = "Wait until a sandbox is running, paused, destroyed, or listens on a port.")
    int await(@Parameters(paramLabel = "SANDBOX") String ref,
              @Option(names = "--for", defaultValue = "running", paramLabel = "running|paused|destroyed|port:N",
                      description = "the condition (default running)") String cond,
              @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS",
                      description = "give up after this long (exit 8), default 300") long timeout) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = resolve(c, ref);
            Duration t = Duration.ofSeconds(timeout);
            if (cond.equals("running")) {
                s.waitUntilRunning(t);
            } else if (cond.equals("paused")) {
                s.waitUntilPaused(t);
            } else if (cond.equals("destroyed")) {
                s.waitUntilDestroyed(t);
            } else if (cond.startsWith("port:")) {
                int port;
                try {
                    port = Integer.parseInt(cond.substring(5));
                } catch (NumberFormatException e) {
                    throw new CliException(ExitCodes.USAGE, "--for port:N needs a number, not '" + cond + "'");
                }
                s.waitForPort(port, t);
            } else {
                throw new CliException(ExitCodes.USAGE, "--for must be running, paused, destroyed or port:N");
            }
            Output.action("ready", Map.of("id", s.id(), "for", cond), s.id() + ": " + cond);
            return 0;
        }
    }

    @Command(name = "shell", aliases = "sh", mixinStandardHelpOptions = true,
            description = {"An interactive terminal in the sandbox (a real PTY over the API; no sshd needed).",
                    "Escapes after a newline: ~. ends the session, ~? lists escapes, ~~ sends ~.",
                    "Exits with the remote shell's exit code."})
    int shell(@Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX",
                      description = "id or name (asked when omitted on a terminal)") String ref,
              @Option(names = "--ssh", description = "through the SSH gateway with the OpenSSH client instead "
                      + "(needs your key in the sandbox's ssh_pubkeys: --add-key)") boolean ssh,
              @Option(names = "--ssh-gateway", paramLabel = "HOST:PORT", description = "the gateway (else "
                      + "CREATEOS_SSH_GATEWAY, the profile's ssh_gateway, the API host on port 2222)") String gateway,
              @Option(names = {"-i", "--identity"}, paramLabel = "FILE", description = "with --ssh: the private key") String identity,
              @Option(names = "--user", paramLabel = "USER", description = "with --ssh: log in as this guest user") String user,
              @Option(names = "--add-key", description = "with --ssh: first add the public key (FILE.pub or "
                      + "~/.ssh/id_*.pub) to the sandbox") boolean addKey,
              @Parameters(index = "1..*", arity = "0..*", paramLabel = "CMD",
                      description = "with --ssh: run this command instead of a shell") List<String> command) throws Exception {
        if (!ssh && (gateway != null || identity != null || user != null || addKey || (command != null && !command.isEmpty()))) {
            throw new CliException(ExitCodes.USAGE, "--ssh-gateway, -i, --user, --add-key and CMD go with --ssh");
        }
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = Picker.sandbox(c, ref);
            if (ssh) {
                return SshShell.run(c, s, gateway, identity, user, addKey, command == null ? List.of() : command);
            }
            return new ShellClient(c, s.id()).run();
        }
    }

    @Command(name = "tunnel", aliases = "tun", mixinStandardHelpOptions = true,
            description = {"Forward local TCP connections to a port inside the sandbox (IPv4 and IPv6 loopback).",
                    "Ctrl-C closes it."})
    int tunnel(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
               @Parameters(index = "1", arity = "0..1", paramLabel = "[LOCAL:]REMOTE",
                       description = "e.g. 8080 or 9000:8080") String spec,
               @Option(names = "--remote", paramLabel = "PORT", description = "the port in the sandbox") Integer remote,
               @Option(names = "--local", paramLabel = "PORT", description = "the local port (default: the remote one; 0 picks one)") Integer local,
               @Option(names = "--bind", paramLabel = "ADDR", description = "listen address (default: 127.0.0.1 and ::1)") String bind)
            throws Exception {
        if (spec != null) {
            String[] parts = spec.split(":");
            try {
                if (parts.length == 2) {
                    local = Integer.parseInt(parts[0]);
                    remote = Integer.parseInt(parts[1]);
                } else {
                    remote = Integer.parseInt(parts[0]);
                }
            } catch (NumberFormatException e) {
                throw new CliException(ExitCodes.USAGE, "bad port spec '" + spec + "'");
            }
        }
        if (remote == null) {
            throw new CliException(ExitCodes.USAGE, "which port? pass REMOTE or --remote PORT");
        }
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = resolve(c, ref);
            return new TunnelServer(s, remote, local == null ? remote : local, bind).run();
        }
    }

    static Map<String, String> parseEnv(List<String> env) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String e : env) {
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new CliException(ExitCodes.USAGE, "--env wants K=V, not '" + e + "'");
            }
            m.put(e.substring(0, eq), e.substring(eq + 1));
        }
        return m;
    }

    /** Counts what an upload from stdin read. */
    static final class CountingInputStream extends java.io.FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
