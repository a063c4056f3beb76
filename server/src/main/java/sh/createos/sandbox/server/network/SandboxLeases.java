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
import sh.createos.sandbox.server.host.Host;
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
     * first use) and the member's address in one transaction.
     */
    void join(NetworkRecord network, String sandboxId) throws IOException {
        if (!store.insertMember(network.id(), sandboxId, Instant.now().truncatedTo(ChronoUnit.MILLIS))) {
            throw new DomainException(ErrorCode.ALREADY_ATTACHED, "sandbox " + sandboxId + " is already attached to "
                    + network.id());
        }
        try {
            String cidr = host.hasPrivateNetwork(network.id()) ? null
                    : host.createPrivateNetwork(network.id(), network.name());
            String ip = host.join(network.id(), sandboxId);
            store.inTransaction(() -> {
                if (cidr != null) {
                    store.setNetworkCidr(network.id(), cidr);
                }
                store.setMemberIp(network.id(), sandboxId, ip);
            });
        } catch (IOException | RuntimeException e) {
            store.deleteMember(network.id(), sandboxId);
            throw e;
        }
    }

    /** Once the VM is gone: its tap, rules and addresses, and its memberships. Never throws: it only logs. */
    public void release(String sandboxId) {
        try {
            store.deleteMemberships(sandboxId);
            host.releaseLease(sandboxId);
        } catch (IOException | RuntimeException e) {
            log.error("releasing the network lease of sandbox {} failed; the next start reconciles it", sandboxId, e);
        }
    }

    /** At start: every lease but those of {@code sandboxIds} (the rows that still have a VM or a snapshot) goes. */
    public void reconcile(Collection<String> sandboxIds) throws IOException {
        host.reconcileLeases(sandboxIds);
    }
}
