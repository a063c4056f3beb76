package sh.createos.sandbox.server.lifecycle;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import sh.createos.sandbox.host.net.Bandwidth;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.SandboxLease;
import sh.createos.sandbox.server.network.HostNetworking;

/** The host network's byte counters (out + in) per sandbox, read for all leases at once; none without networking. */
public final class NetworkTraffic implements IdleAutoPause.Traffic {
    private final HostNetworking networking;

    public NetworkTraffic(HostNetworking networking) {
        this.networking = networking;
    }

    @Override
    public Map<String, Long> bytesBySandbox() throws IOException {
        Optional<HostNetwork> network = networking.network();
        if (network.isEmpty()) {
            return Map.of();
        }
        Map<String, Bandwidth> counters = network.get().bandwidths();
        Map<String, Long> bytes = new HashMap<>();
        for (SandboxLease lease : network.get().leases()) {
            Bandwidth b = counters.get(lease.vmId());
            if (b != null) {
                bytes.put(lease.identity().sandboxId(), b.usedBytes() + b.ingressBytes());
            }
        }
        return bytes;
    }
}
