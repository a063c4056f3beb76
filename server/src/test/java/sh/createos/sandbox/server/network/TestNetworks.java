package sh.createos.sandbox.server.network;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.Ipv4Cidr;
import sh.createos.sandbox.host.net.NetworkConfig;

/**
 * A host network of its own for one test server, so tests never touch a real {@code serve}'s ("csb", 10.200/16 and
 * 10.201/16) nor each other's: instance {@code t<4 hex>}, a random /22 of 10.250/16 for sandboxes and one of
 * 10.251/16 for private networks (the host module's tests use 10.120-10.239).
 */
public final class TestNetworks {
    private TestNetworks() {}

    public static NetworkConfig config(Path dataDir, List<InetSocketAddress> upstreamDns) {
        int k = ThreadLocalRandom.current().nextInt(64);
        return new NetworkConfig(dataDir.resolve("net"),
                "t" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4),
                Ipv4Cidr.parse("10.250." + 4 * k + ".0/22"), Ipv4Cidr.parse("10.251." + 4 * k + ".0/22"), upstreamDns,
                0, List.of(Ipv4Cidr.parse("169.254.0.0/16")), "fc.local");
    }

    /** With the host's own resolvers upstream. */
    public static NetworkConfig config(Path dataDir) throws IOException {
        return config(dataDir, NetworkConfig.resolvConf(Path.of("/etc/resolv.conf")));
    }

    /** After the server closed: a server leaves its network's kernel objects for its next start; a test's go. */
    public static void destroy(NetworkConfig config) throws IOException {
        HostNetwork.open(config).destroy();
    }
}
