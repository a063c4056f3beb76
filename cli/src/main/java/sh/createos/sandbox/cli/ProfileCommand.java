package sh.createos.sandbox.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code createos profile add|use|list|rm}: named credentials and per-profile defaults. */
@Command(name = "profile", mixinStandardHelpOptions = true, description = "Manage profiles (credentials and defaults).")
final class ProfileCommand {

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add or update a profile.")
    int add(@Parameters(paramLabel = "NAME") String name,
            @Option(names = "--token", paramLabel = "KEY", description = "API key") String token,
            @Option(names = "--url", paramLabel = "URL", description = "API base URL") String url,
            @Option(names = "--shape", description = "default shape for create") String shape,
            @Option(names = "--rootfs", description = "default rootfs for create") String rootfs) {
        CliConfig cfg = CliConfig.load();
        Map<String, String> p = new LinkedHashMap<>(cfg.profiles.getOrDefault(name, Map.of()));
        put(p, "api_key", token);
        put(p, "api_url", url);
        put(p, "shape", shape);
        put(p, "rootfs", rootfs);
        cfg.profiles.put(name, p);
        if (cfg.profiles.size() == 1) {
            cfg.current = name;
        }
        cfg.save();
        Output.action("profile_saved", Map.of("profile", name), "Saved profile " + name);
        return 0;
    }

    @Command(name = "use", mixinStandardHelpOptions = true, description = "Make a profile the current one.")
    int use(@Parameters(paramLabel = "NAME") String name) {
        CliConfig cfg = CliConfig.load();
        if (!cfg.profiles.containsKey(name)) {
            throw new CliException(ExitCodes.NOT_FOUND, "no profile '" + name + "'");
        }
        cfg.current = name;
        cfg.save();
        Output.action("profile_used", Map.of("profile", name), "Now using profile " + name);
        return 0;
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List profiles.")
    int list() {
        CliConfig cfg = CliConfig.load();
        List<Map<String, Object>> rows = new ArrayList<>();
        cfg.profiles.forEach((n, p) -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", n);
            r.put("current", n.equals(cfg.current));
            r.put("api_url", p.get("api_url"));
            r.put("has_key", p.containsKey("api_key"));
            r.put("shape", p.get("shape"));
            r.put("rootfs", p.get("rootfs"));
            rows.add(r);
        });
        Output.rows(rows, List.of(
                new Output.Column<Map<String, Object>>("NAME", r -> (Boolean) r.get("current") ? r.get("name") + " *" : r.get("name"), false),
                new Output.Column<Map<String, Object>>("API URL", r -> r.get("api_url"), false),
                new Output.Column<Map<String, Object>>("KEY", r -> (Boolean) r.get("has_key") ? "yes" : "no", false),
                new Output.Column<Map<String, Object>>("SHAPE", r -> r.get("shape"), true),
                new Output.Column<Map<String, Object>>("ROOTFS", r -> r.get("rootfs"), true)), rows);
        return 0;
    }

    @Command(name = "rm", aliases = "delete", mixinStandardHelpOptions = true, description = "Remove a profile.")
    int rm(@Parameters(paramLabel = "NAME") String name) {
        CliConfig cfg = CliConfig.load();
        if (cfg.profiles.remove(name) == null) {
            throw new CliException(ExitCodes.NOT_FOUND, "no profile '" + name + "'");
        }
        if (name.equals(cfg.current)) {
            cfg.current = cfg.profiles.isEmpty() ? "default" : cfg.profiles.keySet().iterator().next();
        }
        cfg.save();
        Output.action("profile_removed", Map.of("profile", name), "Removed profile " + name);
        return 0;
    }

    private static void put(Map<String, String> p, String k, String v) {
        if (v != null) {
            p.put(k, v);
        }
    }
}
