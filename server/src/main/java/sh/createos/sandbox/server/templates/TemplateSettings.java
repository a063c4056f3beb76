package sh.createos.sandbox.server.templates;

import java.time.Duration;
import java.util.Map;

/**
 * The server's build policy. Each setting is a system property {@code createos.templates.<name>} or an environment
 * variable {@code CREATEOS_SANDBOX_TEMPLATE_<NAME>} (the property wins):
 *
 * <ul>
 *   <li>{@code builds} (1): builds that run at once; the rest wait {@code pending}, in submission order.
 *   <li>{@code timeout_seconds} (1800): a build's time limit, queueing not counted; a RUN still going is killed.
 *   <li>{@code disk_mib} (4096): room for the build beyond its base image: the builder's disk is the base's size
 *       plus this, so a RUN that writes more fails with ENOSPC; it is also the template's added size.
 *   <li>{@code memory_mib} (1024) and {@code vcpus} (1): the builder VM.
 *   <li>{@code network} (true): builders get the host network (open egress) when the host has one.
 *   <li>{@code cache_entries} (32): cached build steps kept (least recently used go first).
 * </ul>
 */
public record TemplateSettings(int builds, Duration timeout, int diskMib, int memoryMib, int vcpus, boolean network,
                               int cacheEntries) {
    public static final TemplateSettings DEFAULTS = new TemplateSettings(1, Duration.ofMinutes(30), 4096, 1024, 1,
            true, 32);

    public static TemplateSettings fromEnvironment() {
        return from(System.getenv());
    }

    static TemplateSettings from(Map<String, String> env) {
        TemplateSettings d = DEFAULTS;
        return new TemplateSettings(
                number(env, "builds", d.builds(), 1, 64),
                Duration.ofSeconds(number(env, "timeout_seconds", (int) d.timeout().toSeconds(), 10, 86_400)),
                number(env, "disk_mib", d.diskMib(), 64, 1 << 20),
                number(env, "memory_mib", d.memoryMib(), 128, 1 << 20),
                number(env, "vcpus", d.vcpus(), 1, 64),
                Boolean.parseBoolean(value(env, "network", Boolean.toString(d.network()))),
                number(env, "cache_entries", d.cacheEntries(), 0, 100_000));
    }

    private static String value(Map<String, String> env, String name, String fallback) {
        String property = System.getProperty("createos.templates." + name);
        if (property != null) {
            return property;
        }
        return env.getOrDefault("CREATEOS_SANDBOX_TEMPLATE_" + name.toUpperCase(java.util.Locale.ROOT), fallback);
    }

    private static int number(Map<String, String> env, String name, int fallback, int min, int max) {
        String raw = value(env, name, Integer.toString(fallback));
        try {
            int n = Integer.parseInt(raw.strip());
            if (n < min || n > max) {
                throw new IllegalArgumentException();
            }
            return n;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("template setting " + name + " must be a number from " + min + " to "
                    + max + ", not '" + raw + "'");
        }
    }
}
