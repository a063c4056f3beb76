package sh.createos.sandbox.server.network;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.net.EgressPolicy;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.SandboxIdentity;
import sh.createos.sandbox.model.CreateSandboxRequest.NetworkRef;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
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
    private final HostNetworking hostNetworking;

    public SandboxLeases(Store store, HostNetworking hostNetworking) {
        this.store = store;
        this.hostNetworking = hostNetworking;
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
        hostNetworking.require();
        return found;
    }

    /**
     * Before the VM of {@code row} first starts: its tap, address, rules and quota, and its memberships.
     *
     * @return the sandbox's address, or null without host networking
     */
    public String acquire(SandboxRecord row, List<NetworkRecord> networks) throws IOException {
        Optional<HostNetwork> host = hostNetworking.network();
        if (host.isEmpty()) {
            return null;
        }
        String vmId = vmId(row.id());
        String address = host.get().acquire(vmId, new SandboxIdentity(row.id(), row.name()),
                EgressPolicy.of(row.egress()), row.bandwidthQuotaBytes()).address();
        try {
            for (NetworkRecord network : networks) {
                join(host.get(), network, row.id());
            }
        } catch (IOException | RuntimeException e) {
            release(row.id());
            throw e;
        }
        return address;
    }

    /** The member row, then the host side (the network's range is allocated on first use). */
    void join(HostNetwork host, NetworkRecord network, String sandboxId) throws IOException {
        if (!store.insertMember(network.id(), sandboxId, Instant.now().truncatedTo(ChronoUnit.MILLIS))) {
            throw new DomainException(ErrorCode.ALREADY_ATTACHED, "sandbox " + sandboxId + " is already attached to "
                    + network.id());
        }
        try {
            if (host.network(network.id()).isEmpty()) {
                store.setNetworkCidr(network.id(), host.createNetwork(network.id(), network.name()).cidr());
            }
            store.setMemberIp(network.id(), sandboxId, host.attach(network.id(), vmId(sandboxId)));
        } catch (IOException | RuntimeException e) {
            store.deleteMember(network.id(), sandboxId);
            throw e;
        }
    }

    /** Once the VM is gone: its tap, rules and addresses, and its memberships. Never throws: it only logs. */
    public void release(String sandboxId) {
        store.memberships(sandboxId).forEach(m -> store.deleteMember(m.networkId(), sandboxId));
        Optional<HostNetwork> host = hostNetworking.network();
        if (host.isPresent() && host.get().lease(vmId(sandboxId)).isPresent()) {
            try {
                host.get().release(vmId(sandboxId));
            } catch (IOException | RuntimeException e) {
                log.error("releasing the network lease of sandbox {} failed; the next start reconciles it",
                        sandboxId, e);
            }
        }
    }

    /** At start: every lease but those of {@code sandboxIds} (the rows that still have a VM or a snapshot) goes. */
    public void reconcile(Collection<String> sandboxIds) throws IOException {
        Optional<HostNetwork> host = hostNetworking.network();
        if (host.isPresent()) {
            Set<String> keep = sandboxIds.stream().map(SandboxLeases::vmId).collect(Collectors.toSet());
            host.get().reconcile(keep);
        }
    }

    /** VM ids name directories: lower-case, no '_' (as {@code SandboxService.vmId}). */
    static String vmId(String sandboxId) {
        return sandboxId.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
