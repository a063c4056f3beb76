package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's OpenSSH client (ssh, sftp, ssh-keygen) against a gateway on a loopback port, for the tests and bench. */
final class OpenSsh {
    record Result(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + ", stdout '" + stdout + "', stderr '" + stderr + "'";
        }
    }

    private final int port;

    OpenSsh(int port) {
        this.port = port;
    }

    /** A fresh key pair; returns the private key's path (the public key is next to it, .pub). */
    static Path keygen(Path dir, String name) throws IOException, InterruptedException {
        Path key = dir.resolve(name);
        Result r = run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString()), null);
        if (r.exit() != 0) {
            throw new IOException("ssh-keygen failed: " + r);
        }
        return key;
    }

    static String publicKey(Path key) throws IOException {
        return Files.readString(key.resolveSibling(key.getFileName() + ".pub")).strip();
    }

    List<String> options(Path key) {
        return List.of("-F", "/dev/null", "-i", key.toString(), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30");
    }

    List<String> ssh(Path key, String login, String... rest) {
        List<String> argv = new ArrayList<>(List.of("ssh", "-p", String.valueOf(port)));
        argv.addAll(options(key));
        argv.addAll(List.of(rest));
        argv.add(login + "@127.0.0.1");
        return argv;
    }

    /** ssh [opts] login@host -- command. */
    Result exec(Path key, String login, String command, String... sshOptions) throws IOException, InterruptedException {
        List<String> argv = ssh(key, login, sshOptions);
        argv.add(command);
        return run(argv, null);
    }

    Result sftpBatch(Path key, String login, String batch) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("sftp", "-P", String.valueOf(port)));
        argv.addAll(options(key));
        argv.addAll(List.of("-b", "-", login + "@127.0.0.1"));
        return run(argv, batch);
    }

    static Result run(List<String> argv, String stdin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        Path out = Files.createTempFile("ssh-out", ".txt");
        Path err = Files.createTempFile("ssh-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p = pb.start();
        try {
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(argv + " did not finish in 600 s");
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
