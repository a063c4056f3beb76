package sh.createos.sandbox.host.net;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The names the DNS forwarder answers itself (spec §10.7): for the members of the asker's private networks,
 * {@code <name>}, {@code <sandbox-id>}, both under the search domain, and {@code <name>.<network-name>.<search>}; the
 * members on other hosts ({@link PrivateNetwork#remote}) as well as those here.
 * Other names under the search domain do not exist; every other name is for upstream.
 */
final class MemberNames {
    private MemberNames() {}

    /**
     * Present when the host answers {@code queried} for {@code asker}: the member addresses (empty = NXDOMAIN).
     * Empty when the query goes upstream.
     */
    static Optional<List<String>> resolve(String queried, String searchDomain, SandboxLease asker,
                                          Map<String, PrivateNetwork> networks, Map<String, SandboxLease> leases) {
        String q = queried.toLowerCase(Locale.ROOT);
        if (q.endsWith(".")) {
            q = q.substring(0, q.length() - 1);
        }
        String suffix = "." + searchDomain;
        boolean ours = q.equals(searchDomain) || q.endsWith(suffix);
        String label = ours ? q.substring(0, Math.max(0, q.length() - suffix.length())) : q;
        Set<String> found = new LinkedHashSet<>();
        for (String networkId : new TreeSet<>(asker.networks().keySet())) {
            PrivateNetwork network = networks.get(networkId);
            if (network == null) {
                continue;
            }
            String networkName = network.name() == null ? null : network.name().toLowerCase(Locale.ROOT);
            new TreeMap<>(network.members()).forEach((memberId, address) -> {
                SandboxLease member = leases.get(memberId);
                if (member == null) {
                    return;
                }
                for (String name : names(member.identity().sandboxId(), member.identity().name())) {
                    if (matches(label, name, ours, networkName)) {
                        found.add(address);
                    }
                }
            });
            for (RemoteMember remote : network.remote()) {
                for (String name : names(remote.sandboxId(), remote.name())) {
                    if (matches(label, name, ours, networkName)) {
                        found.add(remote.address());
                    }
                }
            }
        }
        return !found.isEmpty() || ours ? Optional.of(List.copyOf(found)) : Optional.empty();
    }

    private static boolean matches(String label, String name, boolean ours, String networkName) {
        return label.equals(name) || (ours && networkName != null && label.equals(name + "." + networkName));
    }

    private static List<String> names(String sandboxId, String name) {
        String id = sandboxId.toLowerCase(Locale.ROOT);
        return name == null || name.isBlank() ? List.of(id) : List.of(id, name.toLowerCase(Locale.ROOT));
    }
}
