package sh.createos.sandbox.host.net;

import java.util.List;
import java.util.Map;

/**
 * A private network (spec §10) on this host: members reach each other on every port and by name, nobody else reaches
 * them through it. {@code members}: VM id -> the member's stable address in {@code cidr}. {@code remote}: its members
 * on other hosts, reached over the network's overlay ({@link Vxlan}), as the control plane last told them.
 */
public record PrivateNetwork(String id, String name, String cidr, Map<String, String> members,
                             List<RemoteMember> remote) {
    public PrivateNetwork {
        members = Map.copyOf(members);
        remote = remote == null ? List.of() : List.copyOf(remote);
    }

    public PrivateNetwork(String id, String name, String cidr, Map<String, String> members) {
        this(id, name, cidr, members, List.of());
    }

    PrivateNetwork withMembers(Map<String, String> newMembers) {
        return new PrivateNetwork(id, name, cidr, newMembers, remote);
    }

    PrivateNetwork withRemote(List<RemoteMember> newRemote) {
        return new PrivateNetwork(id, name, cidr, members, newRemote);
    }

    Ipv4Cidr range() {
        return Ipv4Cidr.parse(cidr);
    }
}
