package sh.createos.sandbox.host.net;

/**
 * A member of a private network that runs on another host: its sandbox id and name (for {@link MemberNames}), its
 * address in the network, and the underlay address of its host (where that host's overlay endpoint listens).
 */
public record RemoteMember(String sandboxId, String name, String address, String underlay) {
    public RemoteMember {
        if (sandboxId == null || !sandboxId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("bad remote member id '" + sandboxId + "'");
        }
        if (address == null || !Ipv4Cidr.isAddress(address)) {
            throw new IllegalArgumentException("remote member " + sandboxId + ": bad address '" + address + "'");
        }
        if (underlay == null || !Ipv4Cidr.isAddress(underlay)) {
            throw new IllegalArgumentException("remote member " + sandboxId + ": bad underlay address '" + underlay
                    + "'");
        }
    }
}
