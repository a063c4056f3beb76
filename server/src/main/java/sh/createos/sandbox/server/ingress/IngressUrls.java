package sh.createos.sandbox.server.ingress;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The public names of sandbox ports: {@code <scheme>://<ulid>-<port>.<domain>[:<listener port>]}, the ULID being the
 * sandbox id without {@code sb_}, in lower case as host names travel.
 */
public final class IngressUrls {
    public static final String PORT_PLACEHOLDER = "<port>";
    private static final Pattern LABEL = Pattern.compile("([0-9a-z]{26})-([0-9]{1,5})");

    private final String scheme;
    private final String domain;
    private final String portSuffix;

    public IngressUrls(boolean tls, String domain, int listenerPort) {
        this.scheme = tls ? "https" : "http";
        this.domain = domain;
        boolean defaultPort = listenerPort == (tls ? 443 : 80);
        this.portSuffix = defaultPort ? "" : ":" + listenerPort;
    }

    /** The spec's {@code ingress_url_template}: holds the literal {@code <port>} exactly once. */
    public String template(String sandboxId) {
        return scheme + "://" + ulid(sandboxId) + "-" + PORT_PLACEHOLDER + "." + domain + portSuffix;
    }

    public String url(String sandboxId, int port) {
        return template(sandboxId).replace(PORT_PLACEHOLDER, Integer.toString(port));
    }

    /** A sandbox id and guest port from a Host header, if it names one under our domain. */
    public Optional<Target> target(String hostHeader) {
        if (hostHeader == null) {
            return Optional.empty();
        }
        String host = hostHeader.toLowerCase(Locale.ROOT);
        int colon = host.lastIndexOf(':');
        if (colon >= 0 && !host.endsWith("]")) {
            host = host.substring(0, colon);
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        String suffix = "." + domain;
        if (!host.endsWith(suffix)) {
            return Optional.empty();
        }
        Matcher label = LABEL.matcher(host.substring(0, host.length() - suffix.length()));
        if (!label.matches()) {
            return Optional.empty();
        }
        int port = Integer.parseInt(label.group(2));
        if (port < 1 || port > 65535) {
            return Optional.empty();
        }
        return Optional.of(new Target("sb_" + label.group(1).toUpperCase(Locale.ROOT), port));
    }

    public record Target(String sandboxId, int port) {}

    private static String ulid(String sandboxId) {
        return (sandboxId.startsWith("sb_") ? sandboxId.substring(3) : sandboxId).toLowerCase(Locale.ROOT);
    }
}
