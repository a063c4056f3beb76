package sh.createos.sandbox.server.ssh;

import java.time.Duration;
import sh.createos.sandbox.server.ListenAddress;

/**
 * Where the SSH gateway listens and its limits: authentication requests per connection, how long a connection may
 * stay silent before it is closed, how many SSH connections one sandbox may have at once, and how many channels
 * (shells, commands, SFTP, forwarded connections) one connection may have open at once.
 */
public record SshConfig(String host, int port, int maxAuthAttempts, Duration idleTimeout, int maxSessionsPerSandbox,
        int maxChannelsPerConnection) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:2222";
    public static final int DEFAULT_MAX_AUTH_ATTEMPTS = 6;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(15);
    public static final int DEFAULT_MAX_SESSIONS_PER_SANDBOX = 10;
    /** Room for a browser's parallel connections through {@code ssh -L} beside a few shells. */
    public static final int DEFAULT_MAX_CHANNELS_PER_CONNECTION = 64;

    public SshConfig {
        if (maxAuthAttempts < 1 || maxAuthAttempts > 100) {
            throw new IllegalArgumentException("--ssh-max-auth-attempts wants 1..100, not " + maxAuthAttempts);
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("--ssh-idle-timeout-seconds wants a positive number, not "
                    + idleTimeout.toSeconds());
        }
        if (maxSessionsPerSandbox < 1) {
            throw new IllegalArgumentException("--ssh-max-sessions-per-sandbox wants a positive number, not "
                    + maxSessionsPerSandbox);
        }
        if (maxChannelsPerConnection < 1) {
            throw new IllegalArgumentException("--ssh-max-channels-per-connection wants a positive number, not "
                    + maxChannelsPerConnection);
        }
    }

    /** {@code listen} is {@code HOST:PORT} (port 0: ephemeral) with the default limits; {@code off} gives null. */
    public static SshConfig of(String listen) {
        if ("off".equals(listen)) {
            return null;
        }
        ListenAddress address = ListenAddress.parse(listen, "--ssh-listen");
        return new SshConfig(address.host(), address.port(), DEFAULT_MAX_AUTH_ATTEMPTS, DEFAULT_IDLE_TIMEOUT,
                DEFAULT_MAX_SESSIONS_PER_SANDBOX, DEFAULT_MAX_CHANNELS_PER_CONNECTION);
    }

    public SshConfig withLimits(int attempts, Duration idle, int sessionsPerSandbox) {
        return new SshConfig(host, port, attempts, idle, sessionsPerSandbox, maxChannelsPerConnection);
    }

    public SshConfig withMaxChannelsPerConnection(int channels) {
        return new SshConfig(host, port, maxAuthAttempts, idleTimeout, maxSessionsPerSandbox, channels);
    }
}
