package sh.createos.sandbox.server;

import java.nio.file.Path;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.ingress.IngressConfig;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;
import sh.createos.sandbox.server.ssh.SshConfig;

/**
 * Where the server keeps its data, where it listens, which database it uses (null: SQLite in the data dir), the
 * shortest {@code auto_pause_after_seconds} it accepts (the spec's 60 unless configured lower), the ingress, the
 * host network and the SSH gateway.
 */
public record ServerConfig(Path dataDir, String host, int port, String databaseUrl, int autoPauseMinSeconds,
                           IngressConfig ingress, NetworkConfig network, SshConfig ssh) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:8080";

    /** Without the SSH gateway. */
    public ServerConfig(Path dataDir, String host, int port, String databaseUrl, int autoPauseMinSeconds,
            IngressConfig ingress, NetworkConfig network) {
        this(dataDir, host, port, databaseUrl, autoPauseMinSeconds, ingress, network, null);
    }

    public String effectiveDatabaseUrl() {
        return databaseUrl != null ? databaseUrl : "jdbc:sqlite:" + dataDir.resolve("control.db").toAbsolutePath();
    }

    public ServerConfig withAutoPauseMinSeconds(int seconds) {
        new AutoPauseLimits(seconds, AutoPauseLimits.SPEC_MAX_SECONDS); // fails early on a bad value
        return new ServerConfig(dataDir, host, port, databaseUrl, seconds, ingress, network, ssh);
    }

    public ServerConfig withIngress(IngressConfig newIngress) {
        return new ServerConfig(dataDir, host, port, databaseUrl, autoPauseMinSeconds, newIngress, network, ssh);
    }

    /** The host network to run (null: none; sandboxes then have an unconnected NIC). */
    public ServerConfig withNetwork(NetworkConfig newNetwork) {
        return new ServerConfig(dataDir, host, port, databaseUrl, autoPauseMinSeconds, ingress, newNetwork, ssh);
    }

    /** The SSH gateway (null: none; the command line's default is {@link SshConfig#DEFAULT_LISTEN}). */
    public ServerConfig withSsh(SshConfig newSsh) {
        return new ServerConfig(dataDir, host, port, databaseUrl, autoPauseMinSeconds, ingress, network, newSsh);
    }

    public AutoPauseLimits autoPauseLimits() {
        return new AutoPauseLimits(autoPauseMinSeconds, AutoPauseLimits.SPEC_MAX_SECONDS);
    }

    /**
     * {@code listen} is {@code HOST:PORT}, {@code [v6]:PORT} or {@code :PORT}. The ingress listens on an ephemeral
     * loopback port under {@code sb.localhost} until {@link #withIngress} says otherwise (the command line's default
     * is {@link IngressConfig#DEFAULT_LISTEN}); no host network until {@link #withNetwork} (the command line runs
     * {@link NetworkConfig#defaults}), so that servers started in tests never share kernel objects by accident.
     */
    public static ServerConfig of(Path dataDir, String listen, String databaseUrl) {
        ListenAddress address = ListenAddress.parse(listen, "--listen");
        return new ServerConfig(dataDir.toAbsolutePath().normalize(), address.host(), address.port(), databaseUrl,
                AutoPauseLimits.SPEC_MIN_SECONDS, IngressConfig.of("127.0.0.1:0", null, null), null, null);
    }
}
