package sh.createos.sandbox.host.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.host.kit.DataDir;

/** Two servers on one machine: data directories of their own share nothing in the kernel, or the second refuses. */
class NetworkInstancesTest {
    @Test
    void eachDataDirectoryGetsItsOwnTableTapsAndPools() throws Exception {
        NetworkConfig lead = NetworkConfig.defaults(DataDir.DEFAULT);
        assertThat(lead.instance()).isEqualTo("csb");
        assertThat(lead.sandboxPool()).hasToString("10.200.0.0/16");
        assertThat(lead.networkPool()).hasToString("10.201.0.0/16");

        NetworkConfig a = NetworkConfig.defaults(Path.of("/var/lib/cs-a"));
        NetworkConfig b = NetworkConfig.defaults(Path.of("/var/lib/cs-b"));
        assertThat(NetworkConfig.defaults(Path.of("/var/lib/cs-a/"))).isEqualTo(a);
        for (NetworkConfig derived : List.of(a, b)) {
            assertThat(NetworkConfig.isServerInstance(derived.instance())).isTrue();
            assertThat(derived.instance()).isNotEqualTo(lead.instance());
            assertThat(derived.stateDir().getParent()).isNotEqualTo(DataDir.DEFAULT);
            assertThat(derived.sandboxPool().overlaps(lead.sandboxPool()) || derived.sandboxPool().overlaps(lead.networkPool())
                    || derived.networkPool().overlaps(lead.sandboxPool())).isFalse();
            int octet = Integer.parseInt(derived.sandboxPool().toString().split("\\.")[1]);
            assertThat(octet).as("second octet of %s", derived.sandboxPool()).isBetween(202, 248).isEven();
            assertThat(derived.networkPool()).hasToString("10." + (octet + 1) + ".0.0/16");
        }
        assertThat(a.instance()).isNotEqualTo(b.instance());
        assertThat(a.tapPrefix()).isNotEqualTo(b.tapPrefix());
    }

    @Test
    void aSecondServerWhosePoolsOverlapTheFirstsRefusesToStart() throws Exception {
        int r = ThreadLocalRandom.current().nextInt(40);
        HostNetwork first = HostNetwork.open(config(r));
        try {
            NetworkConfig second = config(r);
            assertThatThrownBy(() -> HostNetwork.open(second))
                    .hasMessageContaining("overlaps nft table " + first.config().table())
                    .hasMessageContaining("another createos-sandbox server");
            assertThat(Taps.list(second.tapPrefix())).isEmpty();
        } finally {
            first.destroy();
        }
    }

    /** A server-named instance of its own, in the host tests' 10.120-10.199. */
    private static NetworkConfig config(int r) throws Exception {
        String instance = "d" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3);
        return new NetworkConfig(Files.createTempDirectory("netinst-"), instance,
                Ipv4Cidr.parse("10." + (120 + 2 * r) + ".0.0/16"), Ipv4Cidr.parse("10." + (121 + 2 * r) + ".0.0/16"),
                List.of(new InetSocketAddress("127.0.0.1", 53)), 0, List.of(Ipv4Cidr.parse("169.254.0.0/16")), "fc.local");
    }
}
