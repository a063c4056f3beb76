package sh.createos.sandbox.server.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The operator's bearer token for {@code GET /metrics}: {@code CREATEOS_SANDBOX_METRICS_TOKEN}, else the file
 * {@code DATA_DIR/metrics.token} (created 0600 with 32 random bytes on first start). Prometheus reads it with
 * {@code authorization: credentials_file}. No user API key opens /metrics, and no token opens anything else.
 */
public final class MetricsToken {
    static final String ENV = "CREATEOS_SANDBOX_METRICS_TOKEN";
    private final byte[] token;

    private MetricsToken(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    public static MetricsToken load(Path dataDir) throws IOException {
        String fromEnv = System.getenv(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new MetricsToken(fromEnv.trim());
        }
        Path file = dataDir.resolve("metrics.token");
        if (!Files.exists(file)) {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            Path tmp = Files.createTempFile(dataDir, "metrics.token", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, HexFormat.of().formatHex(random) + "\n");
            try {
                Files.move(tmp, file); // not replacing: a concurrent start that won keeps its token
            } catch (java.nio.file.FileAlreadyExistsException e) {
                Files.delete(tmp);
            }
        }
        return new MetricsToken(Files.readString(file).trim());
    }

    /** Whether an {@code Authorization} header carries the token (compared in constant time). */
    public boolean admits(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token);
    }
}
