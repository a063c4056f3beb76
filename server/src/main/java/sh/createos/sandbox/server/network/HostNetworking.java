package sh.createos.sandbox.server.network;

import java.util.Optional;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.server.http.ApiException;

/** The host's network data path, when this server has one (it needs root, nftables and iproute2). */
public interface HostNetworking {
    Optional<HostNetwork> network();

    /** Why there is none. */
    String networkProblem();

    /** @throws ApiException 503 when the host has no networking */
    default HostNetwork require() {
        return network().orElseThrow(() -> ApiException.unavailable("host networking is not available: "
                + networkProblem()));
    }
}
