package sh.createos.sandbox.server;

import java.nio.file.Path;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;

/**
 * Where the server keeps its data, where it listens, which database it uses (null: SQLite in the data dir), and
 * the shortest {@code auto_pause_after_seconds} it accepts (the spec's 60 unless configured lower).
 */
public record ServerConfig(Path dataDir, String host, int port, String databaseUrl, int autoPauseMinSeconds) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:8080";

    public String effectiveDatabaseUrl() {
        return databaseUrl != null ? databaseUrl : "jdbc:sqlite:" + dataDir.resolve("control.db").toAbsolutePath();
    }

    public ServerConfig withAutoPauseMinSeconds(int seconds) {
        new AutoPauseLimits(seconds, AutoPauseLimits.SPEC_MAX_SECONDS); // fails early on a bad value
        return new ServerConfig(dataDir, host, port, databaseUrl, seconds);
    }

    public AutoPauseLimits autoPauseLimits() {
        return new AutoPauseLimits(autoPauseMinSeconds, AutoPauseLimits.SPEC_MAX_SECONDS);
    }

    /** {@code HOST:PORT}, {@code [v6]:PORT} or {@code :PORT}. */
    public static ServerConfig of(Path dataDir, String listen, String databaseUrl) {
        int colon = listen.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--listen wants HOST:PORT, not '" + listen + "'");
        }
        String host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen wants a numeric port, not '" + listen + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + listen + "'");
        }
        return new ServerConfig(dataDir.toAbsolutePath().normalize(), host.isEmpty() ? "0.0.0.0" : host, port,
                databaseUrl, AutoPauseLimits.SPEC_MIN_SECONDS);
    }
}
