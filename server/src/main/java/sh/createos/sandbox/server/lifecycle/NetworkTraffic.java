package sh.createos.sandbox.server.lifecycle;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.Traffic;

/** The host's byte counters (out + in) per sandbox, read for all leases at once; none without networking. */
public final class NetworkTraffic implements IdleAutoPause.Traffic {
    private final Host host;

    public NetworkTraffic(Host host) {
        this.host = host;
    }

    @Override
    public Map<String, Long> bytesBySandbox() throws IOException {
        Map<String, Long> bytes = new HashMap<>();
        for (Map.Entry<String, Traffic> e : host.traffic().entrySet()) {
            bytes.put(e.getKey(), e.getValue().usedBytes() + e.getValue().ingressBytes());
        }
        return bytes;
    }
}
