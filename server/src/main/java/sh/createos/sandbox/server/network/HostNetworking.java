package sh.createos.sandbox.server.network;

import java.util.Optional;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.server.DomainException;

/** The host's network data path, when this server has one (it needs root, nftables and iproute2). */
public interface HostNetworking {
    Optional<HostNetwork> network();

    /** Why there is none. */
    String networkProblem();

    /** @throws DomainException 503 when the host has no networking */
    default HostNetwork require() {
        return network().orElseThrow(() -> DomainException.unavailable("host networking is not available: "
                + networkProblem()));
    }
}
