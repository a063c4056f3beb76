package sh.createos.sandbox.server.network;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;
import sh.createos.sandbox.model.Network;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.NetworkMemberRecord;
import sh.createos.sandbox.server.store.NetworkRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * Private networks (spec §10): rows in the store, the data path in the host's {@link HostNetwork} (which allocates
 * each network's range and its members' addresses). Members of destroyed or failed sandboxes do not count: they
 * leave on their own (their lease, and with it their host-side membership, is released with the VM).
 */
public final class NetworkService {
    /** Network names are DNS labels: members resolve as {@code <name>.<network>.fc.local}. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    static final String ATTACHED = "attached";
    static final String PENDING = "pending";

    private final Store store;
    private final SandboxService sandboxes;
    private final Host host;
    private final SandboxLeases leases;

    public NetworkService(Store store, SandboxService sandboxes, Host host) {
        this.store = store;
        this.sandboxes = sandboxes;
        this.host = host;
        this.leases = new SandboxLeases(store, host);
    }

    public Network create(User user, Network.CreateRequest req) throws IOException {
        String name = req.name() == null ? "" : req.name();
        if (!NAME.matcher(name).matches()) {
            throw DomainException.invalid("network name must be a DNS label (a-z, 0-9, '-', at most 63), not '"
                    + name + "'");
        }
        NetworkRecord row = new NetworkRecord("net_" + Ulid.next(), user.id(), name, null, now());
        store.insertNetwork(row);
        if (host.hasNetwork()) {
            try {
                row = withCidr(row, host.createPrivateNetwork(row.id(), name));
            } catch (IOException | RuntimeException e) {
                store.deleteNetwork(row.id());
                throw e;
            }
        }
        return view(row, List.of(), false);
    }

    public List<Network> list(User user, int limit, int offset) {
        return store.networks(user.id(), limit, offset).stream().map(n -> view(n, liveMembers(n.id()), false))
                .toList();
    }

    public long count(User user) {
        return store.countNetworks(user.id());
    }

    public Network get(User user, String id) {
        NetworkRecord row = owned(user, id);
        return view(row, liveMembers(id), true);
    }

    /** @throws DomainException 409 while a live sandbox is a member */
    public void delete(User user, String id) throws IOException {
        NetworkRecord row = owned(user, id);
        List<NetworkMemberRecord> live = liveMembers(id);
        if (!live.isEmpty()) {
            throw new DomainException(ErrorCode.NETWORK_IN_USE, "network " + id + " still has " + live.size()
                    + " live member(s) (" + live.stream().map(NetworkMemberRecord::sandboxId).toList()
                    + "): detach or destroy them first");
        }
        if (host.hasPrivateNetwork(row.id())) {
            host.deletePrivateNetwork(row.id());
        }
        store.deleteNetwork(row.id());
    }

    /** Live attach (spec §10.5): the member's address is in force on the host and in the guest on return. */
    public void attach(User user, String sandboxId, String networkId) throws IOException {
        sandboxes.running(user, sandboxId);
        NetworkRecord network = owned(user, networkId);
        SandboxLeases.requireNetwork(host);
        leases.join(network, sandboxId);
        try {
            host.configureGuest(sandboxId);
        } catch (IOException | RuntimeException e) {
            host.leave(network.id(), sandboxId);
            store.deleteMember(network.id(), sandboxId);
            leases.announce(network.id());
            throw e;
        }
    }

    /** Live detach (spec §10.6): cut off at once, established connections too. @throws DomainException 404 */
    public void detach(User user, String sandboxId, String networkId) throws IOException {
        sandboxes.running(user, sandboxId);
        boolean member = store.memberships(sandboxId).stream().anyMatch(m -> m.networkId().equals(networkId));
        if (!member) {
            throw DomainException.notFound("sandbox " + sandboxId + " is not attached to network " + networkId);
        }
        SandboxLeases.requireNetwork(host);
        host.leave(networkId, sandboxId);
        store.deleteMember(networkId, sandboxId);
        leases.announce(networkId);
        host.configureGuest(sandboxId);
    }

    private NetworkRecord owned(User user, String id) {
        return store.network(id).filter(n -> n.userId().equals(user.id()))
                .orElseThrow(() -> DomainException.notFound("network " + id + " not found"));
    }

    private List<NetworkMemberRecord> liveMembers(String networkId) {
        return store.members(networkId).stream().filter(m -> m.sandboxStatus() != SandboxStatus.DESTROYED
                && m.sandboxStatus() != SandboxStatus.FAILED).toList();
    }

    private NetworkRecord withCidr(NetworkRecord row, String cidr) {
        store.setNetworkCidr(row.id(), cidr);
        return new NetworkRecord(row.id(), row.userId(), row.name(), cidr, row.createdAt());
    }

    private static Network view(NetworkRecord row, List<NetworkMemberRecord> members, boolean detail) {
        List<Network.Member> shown = detail ? members.stream().map(m -> new Network.Member(m.sandboxId(),
                m.ip() == null ? PENDING : ATTACHED, m.ip(), m.sandboxName())).toList() : null;
        return new Network(row.id(), row.name(), row.createdAt().toString(), row.cidr(),
                detail ? null : members.size(), shown);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }
}
