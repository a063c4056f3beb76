package sh.createos.sandbox.host.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import sh.createos.sandbox.host.agent.GuestNetwork;

/**
 * A sandbox's place on this host's network, from {@link HostNetwork#acquire} until {@link HostNetwork#release}: its
 * own tap and /30 ({@code gateway} on the host's side, {@code address} in the guest), a MAC, its egress rules, its
 * quota, and one address per private network it is a member of ({@code networks}: network id -> address).
 */
public record SandboxLease(String vmId, SandboxIdentity identity, int slot, String tap, String mac, String address,
                           String gateway, int prefix, List<String> egress, long quotaBytes,
                           Map<String, String> networks) {
    public SandboxLease {
        egress = List.copyOf(egress);
        networks = Map.copyOf(networks);
    }

    public EgressPolicy egressPolicy() {
        return EgressPolicy.of(egress);
    }

    SandboxLease withEgress(EgressPolicy policy) {
        return new SandboxLease(vmId, identity, slot, tap, mac, address, gateway, prefix, policy.rules(), quotaBytes, networks);
    }

    SandboxLease withQuota(long quota) {
        return new SandboxLease(vmId, identity, slot, tap, mac, address, gateway, prefix, egress, quota, networks);
    }

    SandboxLease withNetworks(Map<String, String> memberships) {
        return new SandboxLease(vmId, identity, slot, tap, mac, address, gateway, prefix, egress, quotaBytes, memberships);
    }

    /**
     * What the agent's {@code configure} sets: the /30 address, one address per private network (with its network's
     * prefix, so peers are on-link; the host answers their ARP), the default route and the host's resolver.
     */
    GuestNetwork guestNetwork(Map<String, Integer> networkPrefixes, String searchDomain) {
        List<String> addresses = new ArrayList<>();
        addresses.add(address + "/" + prefix);
        new TreeMap<>(networks).forEach((id, ip) -> addresses.add(ip + "/" + networkPrefixes.getOrDefault(id, 32)));
        return new GuestNetwork(mac, addresses, gateway, List.of(), List.of(gateway), List.of(searchDomain), null);
    }
}
