package sh.createos.sandbox.server.tunnel;

import java.util.Arrays;
import java.util.Set;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Exchange;

/**
 * The HTTP/1.1 Upgrade of {@code /shell} and {@code /tunnel/{port}} (interactive-api.md §1.5): the CLI sends
 * {@code Upgrade: tcp-tunnel}; {@code tcp} is what this server's own clients sent before and stays accepted.
 */
public final class UpgradeRequests {
    public static final String CLI_TOKEN = "tcp-tunnel";
    public static final String LEGACY_TOKEN = "tcp";

    private UpgradeRequests() {}

    /**
     * The token to answer the 101 with: the one the client asked for, from {@code accepted}.
     *
     * @throws ApiException {@code status} (400 on /shell, 426 on /tunnel) when the request is not such an upgrade
     */
    public static String token(Exchange ex, Set<String> accepted, int status) {
        String upgrade = ex.header("Upgrade");
        String asked = upgrade == null ? null : upgrade.trim().toLowerCase(java.util.Locale.ROOT);
        if (asked == null || !accepted.contains(asked) || !asksForUpgrade(ex.header("Connection"))) {
            throw new ApiException(status, "UPGRADE_REQUIRED",
                    "expected Upgrade: tcp-tunnel (an HTTP/1.1 upgrade: send 'Connection: Upgrade' and "
                            + "'Upgrade: tcp-tunnel')");
        }
        return asked;
    }

    private static boolean asksForUpgrade(String connection) {
        return connection != null && Arrays.stream(connection.split(","))
                .anyMatch(token -> token.trim().equalsIgnoreCase("upgrade"));
    }
}
