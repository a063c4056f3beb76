package sh.createos.sandbox.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.ExecResult;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * {@code sb cp SRC DST}: one side is {@code SANDBOX:/path}. Files go through the files API as they are; with
 * {@code -r} a directory travels as one tar stream (the local {@code tar} on this side, the guest's {@code tar} on the
 * other, the archive parked in the guest's /tmp for the moment of the copy).
 */
@Command(name = "cp", mixinStandardHelpOptions = true,
        description = {"Copy files between this machine and a sandbox; SANDBOX:/path names the remote side.",
                "With -r a directory is copied into DST (DST/NAME), like cp -r into an existing directory."})
final class CopyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SRC")
    String src;

    @Parameters(index = "1", paramLabel = "DST")
    String dst;

    @Option(names = {"-r", "--recursive"}, description = "copy a directory (as a tar stream)")
    boolean recursive;

    /** {@code ref:/path} → [ref, /path]; a local path (with no colon before its first slash) → null. */
    static String[] remote(String arg) {
        int colon = arg.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        String ref = arg.substring(0, colon);
        if (ref.contains("/")) {
            return null;
        }
        String path = arg.substring(colon + 1);
        return new String[] {ref, path.isEmpty() ? "." : path};
    }

    @Override
    public Integer call() throws Exception {
        String[] from = remote(src);
        String[] to = remote(dst);
        if ((from == null) == (to == null)) {
            throw new CliException(ExitCodes.USAGE, "exactly one of SRC and DST must be SANDBOX:/path");
        }
        try (SandboxClient c = CreateosCli.client()) {
            if (to != null) {
                Sandbox s = SandboxCommand.resolve(c, to[0]);
                return upload(s, Path.of(src), to[1]);
            }
            Sandbox s = SandboxCommand.resolve(c, from[0]);
            return download(s, from[1], Path.of(dst));
        }
    }

    private int upload(Sandbox s, Path local, String remote) throws Exception {
        if (!recursive) {
            if (!Files.isRegularFile(local)) {
                throw new CliException(Files.isDirectory(local) ? ExitCodes.USAGE : ExitCodes.NOT_FOUND,
                        local + (Files.isDirectory(local) ? " is a directory (use -r)" : ": no such file"));
            }
            String target = remote.endsWith("/") ? remote + local.getFileName() : remote;
            s.files().upload(target, local);
            Output.action("copied", Map.of("id", s.id(), "to", target, "bytes", Files.size(local)),
                    "Copied " + local + " to " + s.id() + ":" + target);
            return 0;
        }
        if (!Files.isDirectory(local)) {
            throw new CliException(ExitCodes.NOT_FOUND, local + ": no such directory");
        }
        Path abs = local.toAbsolutePath().normalize();
        String archive = "/tmp/.createos-cp-" + UUID.randomUUID() + ".tar";
        Process tar = new ProcessBuilder("tar", "-C", abs.getParent().toString(), "-cf", "-",
                abs.getFileName().toString()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        try (Progress bar = new Progress("cp " + local, -1); InputStream in = bar.wrap(tar.getInputStream())) {
            s.files().upload(archive, in);
        }
        checkLocal(tar, "tar -cf - " + abs);
        guest(s, "mkdir -p \"$1\" && tar -xf \"$2\" -C \"$1\"; rc=$?; rm -f \"$2\"; exit $rc", remote, archive);
        Output.action("copied", Map.of("id", s.id(), "to", remote + "/" + abs.getFileName()),
                "Copied " + local + " into " + s.id() + ":" + remote);
        return 0;
    }

    private int download(Sandbox s, String remote, Path local) throws Exception {
        if (!recursive) {
            Path target = Files.isDirectory(local) ? local.resolve(Path.of(remote).getFileName().toString()) : local;
            long n = s.files().download(remote, target);
            Output.action("copied", Map.of("id", s.id(), "from", remote, "to", target.toString(), "bytes", n),
                    "Copied " + s.id() + ":" + remote + " to " + target);
            return 0;
        }
        Path rp = Path.of(remote).normalize();
        String parent = rp.getParent() == null ? "/" : rp.getParent().toString();
        String name = rp.getFileName() == null ? "." : rp.getFileName().toString();
        String archive = "/tmp/.createos-cp-" + UUID.randomUUID() + ".tar";
        guest(s, "tar -C \"$1\" -cf \"$3\" \"$2\"", parent, name, archive);
        try {
            Files.createDirectories(local);
            Process tar = new ProcessBuilder("tar", "-C", local.toString(), "-xf", "-")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try (Progress bar = new Progress("cp " + remote, -1); InputStream in = bar.wrap(s.files().download(archive));
                 var out = tar.getOutputStream()) {
                in.transferTo(out);
            }
            checkLocal(tar, "tar -C " + local + " -xf -");
        } finally {
            guest(s, "rm -f \"$1\"", archive);
        }
        Output.action("copied", Map.of("id", s.id(), "from", remote, "to", local.resolve(name).toString()),
                "Copied " + s.id() + ":" + remote + " into " + local);
        return 0;
    }

    private static void guest(Sandbox s, String script, String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("-c", script, "sh"));
        argv.addAll(List.of(args));
        ExecResult r = s.runCommand("sh", argv);
        if (r.exitCode() != 0) {
            throw new CliException(ExitCodes.FAILURE, "in the sandbox, sh -c '" + script + "' exited "
                    + r.exitCode() + ": " + r.stderr().trim());
        }
    }

    private static void checkLocal(Process p, String what) throws IOException, InterruptedException {
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        int rc = p.waitFor();
        if (rc != 0) {
            throw new CliException(ExitCodes.FAILURE, what + " exited " + rc + ": " + err);
        }
    }
}
