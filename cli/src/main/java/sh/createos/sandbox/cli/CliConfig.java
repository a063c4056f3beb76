package sh.createos.sandbox.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Profiles in {@code $XDG_CONFIG_HOME/createos/config.json} (else {@code ~/.config/createos/config.json}), written
 * 0600 because it holds API keys. A profile carries {@code api_key}, {@code api_url} and defaults
 * ({@code shape}, {@code rootfs}, {@code output}).
 */
final class CliConfig {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String current = "default";
    public Map<String, Map<String, String>> profiles = new LinkedHashMap<>();

    static Path file() {
        String override = System.getenv("CREATEOS_CONFIG_DIR");
        if (override != null && !override.isEmpty()) {
            return Path.of(override, "config.json");
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("createos").resolve("config.json");
    }

    static CliConfig load() {
        Path f = file();
        if (!Files.exists(f)) {
            return new CliConfig();
        }
        try {
            return JSON.readValue(f.toFile(), CliConfig.class);
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILURE, "cannot read " + f + ": " + e.getMessage());
        }
    }

    void save() {
        Path f = file();
        try {
            Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling("config.json.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f, e);
        }
    }

    /** The profile in force: --profile, else CREATEOS_PROFILE, else the current one. */
    String activeName() {
        if (Globals.profile != null) {
            return Globals.profile;
        }
        String env = System.getenv("CREATEOS_PROFILE");
        return env != null && !env.isEmpty() ? env : current;
    }

    Map<String, String> active() {
        Map<String, String> p = profiles.get(activeName());
        if (p == null && Globals.profile != null) {
            throw new CliException(ExitCodes.USAGE, "no profile '" + Globals.profile + "' (createos profile list)");
        }
        return p == null ? Map.of() : p;
    }
}
