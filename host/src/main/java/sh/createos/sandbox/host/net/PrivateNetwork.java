package sh.createos.sandbox.host.net;

import java.util.Map;

/**
 * A private network (spec §10) on this host: members reach each other on every port and by name, nobody else reaches
 * them through it. {@code members}: VM id -> the member's stable address in {@code cidr}.
 */
public record PrivateNetwork(String id, String name, String cidr, Map<String, String> members) {
    public PrivateNetwork {
        members = Map.copyOf(members);
    }

    PrivateNetwork withMembers(Map<String, String> newMembers) {
        return new PrivateNetwork(id, name, cidr, newMembers);
    }

    Ipv4Cidr range() {
        return Ipv4Cidr.parse(cidr);
    }
}
