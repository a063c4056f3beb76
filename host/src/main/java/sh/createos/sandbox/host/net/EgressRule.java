package sh.createos.sandbox.host.net;

import java.util.Locale;
import java.util.regex.Pattern;

/** One parsed allowlist entry; {@code port} null means every port. */
sealed interface EgressRule {
    Pattern HOSTNAME = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*");

    /** An IP literal or CIDR: every protocol when {@code port} is null, else TCP and UDP to that port. */
    record Address(Ipv4Cidr cidr, Integer port) implements EgressRule {}

    /** {@code host} (exactly that name) or {@code *.host} (any name below it); admitted through the DNS forwarder. */
    record Name(String name, boolean wildcard, Integer port) implements EgressRule {
        boolean matches(String queried) {
            String q = queried.toLowerCase(Locale.ROOT);
            if (q.endsWith(".")) {
                q = q.substring(0, q.length() - 1);
            }
            return wildcard ? q.endsWith("." + name) : q.equals(name);
        }
    }

    /** Parses IP, CIDR, host, *.host, each optionally with :port; "*" is handled by {@link EgressPolicy}. */
    static EgressRule parse(String rule) {
        if (rule == null || rule.isBlank()) {
            throw new IllegalArgumentException("empty egress rule");
        }
        String text = rule.strip().toLowerCase(Locale.ROOT);
        if (text.indexOf(':') != text.lastIndexOf(':') || text.startsWith("[")) {
            throw new IllegalArgumentException("egress rule '" + rule + "': IPv6 is not supported (sandboxes have no IPv6)");
        }
        Integer port = null;
        int colon = text.lastIndexOf(':');
        if (colon >= 0) {
            port = port(rule, text.substring(colon + 1));
            text = text.substring(0, colon);
        }
        if (!text.isEmpty() && (Character.isDigit(text.charAt(0))) && text.matches("[0-9./]+")) {
            try {
                return new Address(Ipv4Cidr.parse(text), port);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("egress rule '" + rule + "': " + e.getMessage());
            }
        }
        boolean wildcard = text.startsWith("*.");
        String name = wildcard ? text.substring(2) : text;
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.length() > 253 || !HOSTNAME.matcher(name).matches()) {
            throw new IllegalArgumentException("egress rule '" + rule + "' is neither an IPv4 address, a CIDR, a host name,"
                    + " *.host nor any of these with :port");
        }
        return new Name(name, wildcard, port);
    }

    private static int port(String rule, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("egress rule '" + rule + "': port must be 1..65535");
    }
}
