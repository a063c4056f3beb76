package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code configure} op between AgentClient and the real agent binary in serve mode: the agent parses every field
 * of the network part (a malformed one is EINVAL naming it) and, not owning the host, refuses to apply it (EPERM).
 * Applying it is tested in real VMs (sh.createos.sandbox.host.net).
 */
class AgentConfigureTest {
    private static final GuestNetwork VALID = new GuestNetwork("02:c5:0a:c8:00:06", List.of("10.200.0.6/30", "10.201.0.2/24"),
            "10.200.0.5", List.of(new GuestNetwork.Route("10.9.0.0/16", "10.200.0.5")), List.of("10.200.0.5"),
            List.of("fc.local"), 1500);

    @Test
    void aMalformedNetworkIsRejectedNamingTheField(@TempDir Path dir) throws Exception {
        try (AgentProcess agent = AgentProcess.listen(dir); AgentClient client = agent.connect()) {
            GuestNetwork badAddress = new GuestNetwork(VALID.mac(), List.of("10.200.0.6"), VALID.gateway(), VALID.routes(),
                    VALID.dns(), VALID.search(), VALID.mtu());
            assertThatThrownBy(() -> client.configure(GuestConfiguration.network(badAddress)))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("EINVAL"))
                    .hasMessageContaining("bad address \"10.200.0.6\"");
            GuestNetwork badRoute = new GuestNetwork(VALID.mac(), VALID.addresses(), VALID.gateway(),
                    List.of(new GuestNetwork.Route("10.9.0.0/16", "nowhere")), VALID.dns(), VALID.search(), VALID.mtu());
            assertThatThrownBy(() -> client.configure(GuestConfiguration.network(badRoute)))
                    .hasMessageContaining("bad route gateway \"nowhere\"");
            GuestNetwork badMac = new GuestNetwork("02:c5", VALID.addresses(), VALID.gateway(), VALID.routes(),
                    VALID.dns(), VALID.search(), VALID.mtu());
            assertThatThrownBy(() -> client.configure(GuestConfiguration.network(badMac)))
                    .hasMessageContaining("bad mac \"02:c5\"");
            assertThat(client.ping()).isPositive(); // the connection survives failed configures
        }
    }

    @Test
    void aValidNetworkIsParsedButNotAppliedOnAHostAgent(@TempDir Path dir) throws Exception {
        try (AgentProcess agent = AgentProcess.listen(dir); AgentClient client = agent.connect()) {
            assertThatThrownBy(() -> client.configure(GuestConfiguration.network(VALID)))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("EPERM"))
                    .hasMessageContaining("does not own the system");
        }
    }
}
