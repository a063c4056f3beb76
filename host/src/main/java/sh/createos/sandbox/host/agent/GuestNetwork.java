package sh.createos.sandbox.host.agent;

import java.util.List;

/**
 * The {@code network} of a {@code configure} request: the guest's only ethernet interface gets {@code mac}, exactly
 * {@code addresses} (CIDR notation), a default route via {@code gateway}, the extra {@code routes}, and an
 * /etc/resolv.conf with {@code dns} and {@code search}. Null fields are left out of the request.
 */
public record GuestNetwork(String mac, List<String> addresses, String gateway, List<Route> routes, List<String> dns,
                           List<String> search, Integer mtu) {
    public GuestNetwork {
        addresses = addresses == null ? null : List.copyOf(addresses);
        routes = routes == null ? null : List.copyOf(routes);
        dns = dns == null ? null : List.copyOf(dns);
        search = search == null ? null : List.copyOf(search);
    }

    /** A route to {@code to} (CIDR) via {@code via}, or on-link when {@code via} is null. */
    public record Route(String to, String via) {}
}
