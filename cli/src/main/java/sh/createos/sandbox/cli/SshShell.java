package sh.createos.sandbox.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * {@code sb shell --ssh}: the real OpenSSH client through the control plane's SSH gateway (docs/ssh-gateway.md),
 * logging in as {@code [USER+]SANDBOX_ID}. The gateway is --ssh-gateway, else CREATEOS_SSH_GATEWAY, else the
 * profile's {@code ssh_gateway}, else the API host on port 2222.
 */
final class SshShell {
    private SshShell() {}

    static int run(SandboxClient c, Sandbox s, String gateway, String identity, String user, boolean addKey,
                   List<String> extra) throws IOException, InterruptedException {
        String gw = CreateosCli.first(gateway, System.getenv("CREATEOS_SSH_GATEWAY"),
                CreateosCli.profileDefault("ssh_gateway"), c.baseUrl().getHost() + ":2222");
        URI where = URI.create("ssh://" + gw);
        if (where.getHost() == null) {
            throw new CliException(ExitCodes.USAGE, "--ssh-gateway wants HOST:PORT, not '" + gw + "'");
        }
        if (addKey) {
            Path pub = publicKey(identity);
            String key = Files.readString(pub).trim();
            s.addSshPubkeys(List.of(key));
            if (!Globals.structured()) {
                System.err.println("Added " + pub + " to " + s.id() + "'s SSH keys");
            }
        }
        // The gateway's host key is pinned in the CLI's own known_hosts (trusted on first use), beside its config.
        Path knownHosts = CliConfig.file().resolveSibling("ssh_known_hosts");
        Files.createDirectories(knownHosts.getParent());
        List<String> cmd = new ArrayList<>(List.of("ssh", "-p", String.valueOf(where.getPort() < 0 ? 2222 : where.getPort()),
                "-o", "StrictHostKeyChecking=accept-new", "-o", "UserKnownHostsFile=" + knownHosts));
        if (identity != null) {
            cmd.addAll(List.of("-i", identity, "-o", "IdentitiesOnly=yes"));
        }
        if (extra.isEmpty()) {
            cmd.add("-t");
        }
        cmd.add((user == null ? "" : user + "+") + s.id() + "@" + where.getHost());
        cmd.addAll(extra);
        try {
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            return p.waitFor();
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILURE, "cannot run " + String.join(" ", cmd) + ": " + e.getMessage()
                    + " (is the OpenSSH client installed?)");
        }
    }

    private static Path publicKey(String identity) {
        if (identity != null) {
            Path pub = Path.of(identity + ".pub");
            if (!Files.isRegularFile(pub)) {
                throw new CliException(ExitCodes.NOT_FOUND, "--add-key: no public key " + pub);
            }
            return pub;
        }
        Path ssh = Path.of(CreateosCli.first(System.getenv("HOME"), System.getProperty("user.home")), ".ssh");
        for (String name : List.of("id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub")) {
            if (Files.isRegularFile(ssh.resolve(name))) {
                return ssh.resolve(name);
            }
        }
        throw new CliException(ExitCodes.NOT_FOUND, "--add-key: no public key in " + ssh + " (pass -i FILE)");
    }

}
