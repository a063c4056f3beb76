package sh.createos.sandbox.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.cli.sync.IgnoreRules;
import sh.createos.sandbox.cli.sync.LocalTree;
import sh.createos.sandbox.cli.sync.RemoteTree;
import sh.createos.sandbox.cli.sync.SyncEngine;
import sh.createos.sandbox.sdk.NotFoundException;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxApiException;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * {@code sb sync}: keeps a local directory and a sandbox directory the same, through the REST API alone (no sshd,
 * no Mutagen). The local side is watched with the file system's notifications, the sandbox side by a streamed exec
 * that reports when its listing changes; every change starts a round that rescans both sides (hashes cached) and
 * carries the differences.
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = {"Keep a local directory and a directory in the sandbox in sync (two-way by default).",
                "An initial reconcile, then changes on either side are carried within a second or two, until Ctrl-C.",
                "Honours .gitignore files and --exclude; carries deletes and renames. When both sides changed a",
                "file, the local version keeps the path and the sandbox's becomes NAME.sync-conflict-TIME-sandbox.EXT",
                "on both sides (reported as a conflict event). Refuses $HOME itself and system directories.",
                "Output: one line per change (JSON lines when not a terminal: {\"event\":\"upload\",\"path\":…})."})
final class SyncCommand implements Callable<Integer> {
    private static final Set<String> SYSTEM = Set.of("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64",
            "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr", "/var");

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String ref;

    @Option(names = "--local", required = true, paramLabel = "DIR", description = "the local directory (created if missing)")
    Path localDir;

    @Option(names = "--remote", required = true, paramLabel = "PATH",
            description = "the absolute directory in the sandbox (created if missing)")
    String remoteDir;

    @Option(names = "--mode", defaultValue = "two-way", paramLabel = "two-way|push|pull",
            description = "two-way (default), push (the sandbox becomes a copy of the local directory) or pull "
                    + "(the reverse)")
    String mode;

    @Option(names = "--exclude", paramLabel = "PATTERN",
            description = "leave these paths alone (gitignore syntax, relative to the directories; repeatable)")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--once", description = "the initial reconcile only, then exit")
    boolean once;

    @Option(names = "--fresh", description = "forget the state saved by the last run of this pair (then every file "
            + "that differs counts as a conflict)")
    boolean fresh;

    private final LinkedBlockingQueue<String> wake = new LinkedBlockingQueue<>();
    private volatile boolean stopping;

    @Override
    public Integer call() throws Exception {
        SyncEngine.Mode m = switch (mode) {
            case "two-way", "twoway", "two_way" -> SyncEngine.Mode.TWO_WAY;
            case "push" -> SyncEngine.Mode.PUSH;
            case "pull" -> SyncEngine.Mode.PULL;
            default -> throw new CliException(ExitCodes.USAGE, "--mode must be two-way, push or pull, not '" + mode + "'");
        };
        Path local = refuseLocal(localDir);
        String remote = refuseRemote(remoteDir);
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            LocalTree lt = new LocalTree(local, excludes);
            RemoteTree rt = new RemoteTree(s, remote);
            SyncEngine engine = new SyncEngine(lt, rt, m, SyncCommand::event);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("id", s.id());
            f.put("local", local.toString());
            f.put("remote", remote);
            f.put("mode", mode);
            if (Globals.structured()) {
                line("action", "sync_started", f);
            } else {
                Output.out().println("Syncing " + local + " <-> " + s.id() + ":" + remote + " (" + mode
                        + (once ? ", once" : ", Ctrl-C to stop") + ")");
            }
            Path state = stateFile(s.id(), local, remote);
            if (!fresh && Files.isRegularFile(state)) {
                engine.restore(Output.JSON.readValue(state.toFile(),
                        new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {}));
            }
            settle(engine, state);
            if (once) {
                return 0;
            }
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> stop());
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> stop());
            Thread lw = Thread.ofPlatform().daemon().name("sync-local-watch").start(() -> watchLocal(local));
            Thread rw = Thread.ofPlatform().daemon().name("sync-remote-watch").start(() -> watchRemote(rt));
            while (!stopping) {
                // A periodic round as well: a safety net for an event either watcher missed.
                String why = wake.poll(30, TimeUnit.SECONDS);
                if (stopping) {
                    break;
                }
                if (why != null) {
                    Thread.sleep(100); // let a burst of changes land in one round
                }
                wake.clear();
                try {
                    settle(engine, state);
                } catch (NotFoundException e) {
                    throw new CliException(ExitCodes.NOT_FOUND, "the sandbox is gone: " + e.getMessage());
                } catch (SandboxApiException | IOException | CliException e) {
                    if (e instanceof CliException ce && ce.exitCode == ExitCodes.NOT_FOUND) {
                        throw ce;
                    }
                    event("error", Map.of("message", String.valueOf(e.getMessage())));
                    Thread.sleep(1000);
                }
            }
            lw.interrupt();
            rw.interrupt();
            if (Globals.structured()) {
                line("action", "sync_stopped", Map.of("id", s.id()));
            } else {
                Output.out().println("Sync stopped.");
            }
            return 0;
        }
    }

    private void stop() {
        stopping = true;
        wake.add("stop");
    }

    /** Rounds until one finds nothing to do (a conflict, for one, takes a second round to carry both copies). */
    private static void settle(SyncEngine engine, Path state) throws IOException {
        int total = 0;
        try {
            for (int i = 0; i < 10; i++) {
                int n = engine.round();
                total += n;
                if (n == 0) {
                    break;
                }
            }
        } finally {
            save(state, engine.base());
        }
        if (total > 0) {
            event("synced", Map.of("changes", total));
        }
    }

    /** The agreed state of this (sandbox, local, remote) between runs, beside the CLI's config. */
    static Path stateFile(String id, Path local, String remote) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((id + "\0" + local + "\0" + remote).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return CliConfig.file().resolveSibling("sync").resolve(java.util.HexFormat.of().formatHex(d, 0, 12) + ".json");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void save(Path state, Map<String, String> base) throws IOException {
        Files.createDirectories(state.getParent());
        Path tmp = state.resolveSibling(state.getFileName() + ".tmp");
        Output.JSON.writeValue(tmp.toFile(), new java.util.TreeMap<>(base));
        Files.move(tmp, state, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void watchLocal(Path root) {
        try (WatchService ws = FileSystems.getDefault().newWatchService()) {
            Set<Path> watched = new HashSet<>();
            registerAll(ws, root, watched);
            while (!stopping) {
                WatchKey k = ws.take();
                k.pollEvents();
                k.reset();
                registerAll(ws, root, watched); // new directories
                wake.add("local");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            event("error", Map.of("message", "watching " + root + ": " + e.getMessage()));
        }
    }

    private static void registerAll(WatchService ws, Path root, Set<Path> watched) throws IOException {
        try (Stream<Path> dirs = Files.walk(root)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                if (watched.add(d)) {
                    try {
                        d.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                                StandardWatchEventKinds.ENTRY_MODIFY);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        watched.remove(d);
                    }
                }
            }
        } catch (java.io.UncheckedIOException e) {
            // a directory vanished mid-walk: the next event walks again
        }
        watched.removeIf(d -> !Files.isDirectory(d));
    }

    private void watchRemote(RemoteTree rt) {
        long backoff = 1000;
        while (!stopping) {
            long opened = System.nanoTime();
            try {
                rt.watch(() -> wake.add("remote"));
            } catch (RuntimeException e) {
                if (stopping) {
                    return;
                }
                event("error", Map.of("message", "watching the sandbox: " + e.getMessage()));
            }
            // The stream ended (a pause, a restart): open it again, backing off while it keeps failing at once.
            backoff = System.nanoTime() - opened > 30_000_000_000L ? 1000 : Math.min(backoff * 2, 15_000);
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                return;
            }
            wake.add("remote");
        }
    }

    static synchronized void event(String kind, Map<String, Object> fields) {
        if (Globals.structured()) {
            line("event", kind, fields);
        } else {
            StringBuilder b = new StringBuilder(kind.replace('_', ' '));
            fields.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            (kind.equals("error") || kind.equals("conflict") ? System.err : Output.out()).println(b);
        }
        Output.out().flush();
    }

    /** One JSON object on one line: the output of sync is JSON lines, read as they come. */
    private static synchronized void line(String key, String value, Map<String, Object> fields) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, value);
        m.putAll(new java.util.TreeMap<>(fields));
        try {
            Output.out().println(Output.JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Output.out().flush();
    }

    /** The local directory, refused when it is $HOME itself, holds $HOME, or is a system directory. */
    static Path refuseLocal(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        if (Files.exists(abs)) {
            abs = abs.toRealPath();
            if (!Files.isDirectory(abs)) {
                throw new CliException(ExitCodes.USAGE, "--local " + dir + " is not a directory");
            }
        }
        for (String h : new String[] {System.getenv("HOME"), System.getProperty("user.home")}) {
            if (h == null || h.isEmpty()) {
                continue;
            }
            Path home = Path.of(h).toAbsolutePath().normalize();
            if (abs.equals(home) || home.startsWith(abs)) {
                throw new CliException(ExitCodes.USAGE, "refusing to sync " + abs + ": it is (or holds) your home "
                        + "directory; pick a project directory");
            }
        }
        if (isSystem(abs.toString())) {
            throw new CliException(ExitCodes.USAGE, "refusing to sync the system directory " + abs);
        }
        return abs;
    }

    /** The sandbox directory, absolute, refused when it is /, a home directory itself or a system directory. */
    static String refuseRemote(String dir) {
        if (!dir.startsWith("/")) {
            throw new CliException(ExitCodes.USAGE, "--remote must be an absolute path, not '" + dir + "'");
        }
        String p = Path.of(dir).normalize().toString();
        if (p.equals("/") || p.equals("/root") || p.equals("/home") || p.matches("/home/[^/]+") || isSystem(p)) {
            throw new CliException(ExitCodes.USAGE, "refusing to sync " + p + " in the sandbox: / , a home "
                    + "directory itself and system directories are off limits; pick a directory under it");
        }
        return p;
    }

    private static boolean isSystem(String p) {
        if (p.equals("/")) {
            return true;
        }
        for (String s : SYSTEM) {
            // /var itself, but a project under it (/var/www/app) is fine; the others with all below them.
            if (p.equals(s) || (!s.equals("/var") && p.startsWith(s + "/"))) {
                return true;
            }
        }
        return false;
    }
}
