package sh.createos.sandbox.server.network;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.CreateSandboxRequest.NetworkRef;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.NetworkMember;
import sh.createos.sandbox.server.store.NetworkRecord;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * A sandbox's place on the host network for its whole life: acquired before its VM first starts (create, fork) with
 * the row's allowlist and quota and the networks it joins at boot, kept across pause and resume, released when the
 * VM is gone. Without host networking there is no lease and the sandbox has no address.
 */
public final class SandboxLeases {
    private static final Logger log = LoggerFactory.getLogger(SandboxLeases.class);

    private final Store store;
    private final Host host;

    public SandboxLeases(Store store, Host host) {
        this.store = store;
        this.host = host;
    }

    /** The networks a create request names, checked before anything is provisioned. @throws DomainException 400, 503 */
    public List<NetworkRecord> checkNetworks(User user, List<NetworkRef> refs) {
        if (refs == null || refs.isEmpty()) {
            return List.of();
        }
        List<NetworkRecord> found = new ArrayList<>();
        for (NetworkRef ref : refs) {
            String id = ref == null || ref.id() == null ? "" : ref.id();
            NetworkRecord network = store.network(id).filter(n -> n.userId().equals(user.id()))
                    .orElseThrow(() -> DomainException.invalid("unknown network '" + id + "'"));
            if (found.contains(network)) {
                throw DomainException.invalid("network '" + id + "' is listed twice");
            }
            found.add(network);
        }
        requireNetwork(host);
        return found;
    }

    /** @throws DomainException UNAVAILABLE when the host has no networking */
    static void requireNetwork(Host host) {
        if (!host.hasNetwork()) {
            throw DomainException.unavailable("host networking is not available: " + host.networkProblem());
        }
    }

    /**
     * Before the VM of {@code row} first starts: its tap, address, rules and quota, and its memberships.
     *
     * @return the sandbox's address, or null without host networking
     */
    public String acquire(SandboxRecord row, List<NetworkRecord> networks) throws IOException {
        if (!host.hasNetwork()) {
            return null;
        }
        String address = host.lease(row.id(), row.name(), row.egress(), row.bandwidthQuotaBytes());
        try {
            for (NetworkRecord network : networks) {
                join(network, row.id());
            }
        } catch (IOException | RuntimeException e) {
            release(row.id());
            throw e;
        }
        return address;
    }

    /**
     * The member row (which refuses a second membership), then the host side, then the network's range (allocated on
     * first use) and the member's address in one transaction. The members on other hosts are announced to the
     * member's host first (so that its address is not one of theirs), and the new member to them after.
     */
    void join(NetworkRecord network, String sandboxId) throws IOException {
        if (!store.insertMember(network.id(), sandboxId, Instant.now().truncatedTo(ChronoUnit.MILLIS))) {
            throw new DomainException(ErrorCode.ALREADY_ATTACHED, "sandbox " + sandboxId + " is already attached to "
                    + network.id());
        }
        String ip = null;
        try {
            String cidr = host.hasPrivateNetwork(network.id()) ? null
                    : host.createPrivateNetwork(network.id(), network.name());
            String range = cidr != null ? cidr : store.network(network.id()).map(NetworkRecord::cidr).orElse(null);
            host.networkMembers(network.id(), network.name(), range, members(network.id()));
            ip = host.join(network.id(), sandboxId);
            String joined = ip;
            store.inTransaction(() -> {
                if (cidr != null) {
                    store.setNetworkCidr(network.id(), cidr);
                }
                store.setMemberIp(network.id(), sandboxId, joined);
            });
            host.networkMembers(network.id(), network.name(), range, members(network.id()));
        } catch (IOException | RuntimeException e) {
            if (ip != null) {
                try {
                    host.leave(network.id(), sandboxId);
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            store.deleteMember(network.id(), sandboxId);
            if (ip != null) {
                announce(network.id());
            }
            throw e;
        }
    }

    /**
     * Tells the host the network's current members (a host of several machines passes each the members on the
     * others). Never throws: it only logs (the next change of the network announces again).
     */
    void announce(String networkId) {
        try {
            NetworkRecord network = store.network(networkId).orElse(null);
            if (network != null) {
                host.networkMembers(networkId, network.name(), network.cidr(), members(networkId));
            }
        } catch (IOException | RuntimeException e) {
            log.error("announcing the members of network {} failed", networkId, e);
        }
    }

    /** The live members (pending ones, still without an address, included). */
    private List<NetworkMember> members(String networkId) {
        return store.members(networkId).stream()
                .filter(m -> m.sandboxStatus() != SandboxStatus.DESTROYED && m.sandboxStatus() != SandboxStatus.FAILED)
                .map(m -> new NetworkMember(m.sandboxId(), m.sandboxName(), m.ip())).toList();
    }

    /** Once the VM is gone: its tap, rules and addresses, and its memberships. Never throws: it only logs. */
    public void release(String sandboxId) {
        List<String> left = List.of();
        try {
            left = store.memberships(sandboxId).stream().map(m -> m.networkId()).toList();
            store.deleteMemberships(sandboxId);
            host.releaseLease(sandboxId);
        } catch (IOException | RuntimeException e) {
            log.error("releasing the network lease of sandbox {} failed; the next start reconciles it", sandboxId, e);
        }
        left.forEach(this::announce);
    }

    /** At start: every lease but those of {@code sandboxIds} (the rows that still have a VM or a snapshot) goes. */
    public void reconcile(Collection<String> sandboxIds) throws IOException {
        host.reconcileLeases(sandboxIds);
    }
}
