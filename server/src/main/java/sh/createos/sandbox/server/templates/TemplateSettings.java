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
 *   <li>{@code registries} (none): the OCI registries {@code FROM} may pull from, comma-separated {@code HOST[:PORT]}
 *       (HTTPS, certificate verified) or {@code http://HOST[:PORT]} (plain HTTP: a loopback test registry); the
 *       server's {@code --template-registry} options set it.
 *   <li>{@code pull_mib} (4096): the largest base image pulled, compressed layers and unpacked files alike.
 * </ul>
 */
public record TemplateSettings(int builds, Duration timeout, int diskMib, int memoryMib, int vcpus, boolean network,
                               int cacheEntries, Map<String, Registry> registries, int pullMib) {
    public static final TemplateSettings DEFAULTS = new TemplateSettings(1, Duration.ofMinutes(30), 4096, 1024, 1,
            true, 32, Map.of(), 4096);

    /** A registry FROM may pull from: {@code HOST[:PORT]} as written in references, and how to speak to it. */
    public record Registry(String address, boolean plainHttp) {
        @Override
        public String toString() {
            return plainHttp ? "http://" + address : address;
        }
    }

    /** Parses {@code HOST[:PORT]} and {@code http://HOST[:PORT]} entries, comma-separated. */
    public static Map<String, Registry> registries(String list) {
        Map<String, Registry> out = new java.util.LinkedHashMap<>();
        for (String raw : list.split(",")) {
            String entry = raw.strip();
            if (entry.isEmpty()) {
                continue;
            }
            boolean plain = entry.startsWith("http://");
            String address = entry.replaceFirst("^https?://", "").replaceFirst("/+$", "").toLowerCase(
                    java.util.Locale.ROOT);
            if (!address.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\\d{1,5})?|\\[[0-9a-f:]+\\](:\\d{1,5})?")) {
                throw new IllegalArgumentException("template registry '" + raw.strip() + "' is not HOST[:PORT] or"
                        + " http://HOST[:PORT]");
            }
            out.put(address, new Registry(address, plain));
        }
        return Map.copyOf(out);
    }

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
                number(env, "cache_entries", d.cacheEntries(), 0, 100_000),
                registries(value(env, "registries", "")),
                number(env, "pull_mib", d.pullMib(), 1, 1 << 20));
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
