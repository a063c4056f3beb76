package sh.createos.sandbox.host.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MemberNamesTest {
    private static final SandboxLease A = lease("vm-a", "sb_01AAA", "node-a", Map.of("net_1", "10.201.0.2"));
    private static final SandboxLease B = lease("vm-b", "sb_01BBB", "node-b", Map.of("net_1", "10.201.0.3", "net_2", "10.201.1.2"));
    private static final SandboxLease C = lease("vm-c", "sb_01CCC", "node-c", Map.of("net_2", "10.201.1.3"));
    private static final Map<String, PrivateNetwork> NETWORKS = Map.of(
            "net_1", new PrivateNetwork("net_1", "team", "10.201.0.0/24", Map.of("vm-a", "10.201.0.2", "vm-b", "10.201.0.3")),
            "net_2", new PrivateNetwork("net_2", "ops", "10.201.1.0/24", Map.of("vm-b", "10.201.1.2", "vm-c", "10.201.1.3")));
    private static final Map<String, SandboxLease> LEASES = Map.of("vm-a", A, "vm-b", B, "vm-c", C);

    @Test
    void membersOfSharedNetworksResolveByNameAndIdInEveryForm() {
        for (String name : List.of("node-b", "NODE-B.", "sb_01bbb", "node-b.fc.local", "sb_01BBB.fc.local.",
                "node-b.team.fc.local")) {
            assertThat(resolve(name, A)).as(name).contains(List.of("10.201.0.3"));
        }
        // b is in two networks; c shares only ops with it, so c gets b's ops address.
        assertThat(resolve("node-b", C)).contains(List.of("10.201.1.2"));
        assertThat(resolve("node-b.ops.fc.local", C)).contains(List.of("10.201.1.2"));
    }

    @Test
    void namesOutsideTheAskersNetworksAreNxdomainUnderTheDomainAndUpstreamOtherwise() {
        assertThat(resolve("node-c.fc.local", A)).contains(List.of());
        assertThat(resolve("node-b.ops.fc.local", A)).as("a network a is not in").contains(List.of());
        assertThat(resolve("fc.local", A)).contains(List.of());
        assertThat(resolve("node-c", A)).as("single label, not a peer: upstream").isEmpty();
        assertThat(resolve("example.com", A)).isEmpty();
    }

    @Test
    void membersOnOtherHostsResolveOnlyForMembersOfTheirNetwork() {
        Map<String, PrivateNetwork> networks = Map.of(
                "net_1", NETWORKS.get("net_1").withRemote(List.of(new RemoteMember("sb_01DDD", "node-d", "10.201.0.9",
                        "172.30.0.6"))),
                "net_2", NETWORKS.get("net_2"));
        for (String name : List.of("node-d", "sb_01ddd.fc.local", "node-d.team.fc.local")) {
            assertThat(MemberNames.resolve(name, "fc.local", A, networks, LEASES)).as(name)
                    .contains(List.of("10.201.0.9"));
        }
        assertThat(MemberNames.resolve("node-d.fc.local", "fc.local", C, networks, LEASES))
                .as("c is not in team").contains(List.of());
        assertThat(MemberNames.resolve("node-d.ops.fc.local", "fc.local", B, networks, LEASES))
                .as("node-d is not in ops").contains(List.of());
    }

    private static Optional<List<String>> resolve(String name, SandboxLease asker) {
        return MemberNames.resolve(name, "fc.local", asker, NETWORKS, LEASES);
    }

    private static SandboxLease lease(String vmId, String sandboxId, String name, Map<String, String> networks) {
        return new SandboxLease(vmId, new SandboxIdentity(sandboxId, name), 0, "x-0", "02:c5:00:00:00:02", "10.200.0.2",
                "10.200.0.1", 30, List.of(), -1, networks);
    }
}
