package sh.createos.sandbox.host.kit;

import java.nio.file.Path;

/** The one root under which the host writes anything: {@code CREATEOS_SANDBOX_DATA_DIR}, by default /var/lib/createos-sandbox. */
public final class DataDir {
    public static final String ENV = "CREATEOS_SANDBOX_DATA_DIR";
    public static final Path DEFAULT = Path.of("/var/lib/createos-sandbox");

    private DataDir() {}

    public static Path fromEnvironment() {
        String value = System.getenv(ENV);
        return value == null || value.isBlank() ? DEFAULT : Path.of(value).toAbsolutePath().normalize();
    }
}
