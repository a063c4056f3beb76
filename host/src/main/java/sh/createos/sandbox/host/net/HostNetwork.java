package sh.createos.sandbox.host.net;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.GuestConfiguration;
import sh.createos.sandbox.host.agent.GuestNetwork;
import sh.createos.sandbox.host.vmm.NicSource;
import sh.createos.sandbox.host.vmm.VmNic;
import sh.createos.sandbox.host.vmm.VmSpec;

/**
 * One machine's sandbox networking: a tap and a /30 per sandbox, routed and NATed by the host; one nft table of its
 * own; a DNS forwarder that is every guest's resolver; private networks; egress allowlists; bandwidth quotas.
 * Default: a sandbox reaches the outside world and nothing else (not other sandboxes, not the host, not the pools).
 * Keyed by VM id. Thread-safe: changes are serialized. See docs/host-module.md, "Networking".
 */
public final class HostNetwork implements NicSource, Closeable {
    private static final Logger log = LoggerFactory.getLogger(HostNetwork.class);
    private static final int SUBNET_SIZE = 4;
    private static final int NETWORK_SIZE = 256;
    private static final int NETWORK_PREFIX = 24;
    /** Addresses admitted for a name stay at least this long, whatever the record's TTL. */
    private static final long MIN_ADMIT_SECONDS = 60;

    private final NetworkConfig config;
    private final NetworkState state;
    private final Nft nft;
    private final Map<String, SandboxLease> leases = new ConcurrentHashMap<>();
    private final Map<String, PrivateNetwork> networks = new ConcurrentHashMap<>();
    private volatile Map<String, String> owners = Map.of();
    /** Per VM id, the disk endpoints ({@code "address . port"}) it reaches whatever its allowlist; not persisted. */
    private final Map<String, Set<String>> diskEndpoints = new ConcurrentHashMap<>();
    /** The overlay devices whose nft part is in the table (networks with members here and on other hosts). */
    private final Set<String> activeOverlays = new HashSet<>();
    /** This host's underlay address (where other hosts send its overlay traffic), kept in {@code overlay-address}. */
    private String underlay;
    private NftRuleset rules;
    private DnsForwarder dns;
    private int nextSlot;

    private HostNetwork(NetworkConfig config, NetworkState state) {
        this.config = config;
        this.state = state;
        this.nft = new Nft(config.stateDir().resolve("tmp"), config.table());
    }

    /**
     * Enables IPv4 forwarding, starts the DNS forwarder, (re)creates the nft table from the kept leases and networks
     * (counters carried over), creates missing taps and removes taps of this instance that no lease holds.
     */
    public static HostNetwork open(NetworkConfig config) throws IOException {
        HostNetwork network = new HostNetwork(config, new NetworkState(config.stateDir()));
        try {
            network.start();
        } catch (IOException | RuntimeException e) {
            network.close();
            throw e;
        }
        return network;
    }

    private synchronized void start() throws IOException {
        state.leases().forEach(l -> leases.put(l.vmId(), l));
        state.networks().forEach(n -> networks.put(n.id(), n));
        Taps.enableForwarding();
        dns = DnsForwarder.start(config.dnsPort(), config.upstreamDns(), new ForwarderPolicy());
        refuseOverlappingInstances();
        rules = new NftRuleset(config.table(), config.tapPrefix(), dns.port());
        Set<String> kept = new HashSet<>();
        for (SandboxLease lease : leases.values()) {
            Taps.create(lease.tap(), lease.gateway(), lease.prefix());
            for (String address : lease.networks().values()) {
                Taps.routeTo(address, lease.tap());
            }
            kept.add(lease.tap());
        }
        java.nio.file.Path kept0 = config.stateDir().resolve(UNDERLAY_FILE);
        underlay = java.nio.file.Files.exists(kept0) ? java.nio.file.Files.readString(kept0).strip() : null;
        networks.values().stream().filter(HostNetwork::spansHosts).forEach(n -> activeOverlays.add(overlayDevice(n)));
        rebuild();
        Set<String> overlays = new HashSet<>();
        for (PrivateNetwork network : networks.values()) {
            if (spansHosts(network)) {
                String device = overlayDevice(network);
                Vxlan.create(device, Vxlan.vni(network.range()), requireUnderlay());
                Vxlan.route(device, network.remote());
                overlays.add(device);
            }
        }
        for (String device : Vxlan.list(config.instance())) {
            if (!overlays.contains(device)) {
                log.info("removing overlay device {}: no network needs it", device);
                Vxlan.delete(device);
            }
        }
        for (String tap : Taps.list(config.tapPrefix())) {
            if (!kept.contains(tap)) {
                log.info("removing tap {}: no lease holds it", tap);
                Taps.delete(tap);
            }
        }
        nextSlot = leases.values().stream().mapToInt(SandboxLease::slot).max().orElse(-1) + 1;
        reindex();
        log.info("host network {}: {} leases, {} networks, DNS forwarder on port {}", config.instance(),
                leases.size(), networks.size(), dns.port());
    }

    /**
     * Two instances on one machine must share nothing in the kernel: their tables and taps differ by name, and
     * their pools must not overlap, or each would route the other's guests. The pools of every other instance are in
     * its table's {@code pools} set.
     */
    private void refuseOverlappingInstances() throws IOException {
        for (Map.Entry<String, List<Ipv4Cidr>> other : Nft.claimedPools().entrySet()) {
            if (other.getKey().equals(config.table())) {
                continue;
            }
            for (Ipv4Cidr pool : other.getValue()) {
                if (pool.overlaps(config.sandboxPool()) || pool.overlaps(config.networkPool())) {
                    throw new IOException("host network " + config.instance() + " (pools " + config.sandboxPool() + ", "
                            + config.networkPool() + ") overlaps nft table " + other.getKey() + " of another"
                            + " createos-sandbox server on this machine (pools " + other.getValue() + "): stop that"
                            + " server, or run this one with other pools or with its network off");
                }
            }
        }
    }

    public NetworkConfig config() {
        return config;
    }

    /** The UDP/TCP port the DNS forwarder listens on (guests use {@code <gateway>:53}, redirected here). */
    public int dnsPort() {
        return dns.port();
    }

    /**
     * Gives VM {@code vmId} a tap, a /30, a MAC and its rules; call before {@code Vmm.boot/fork} of that id. A second
     * acquire of the same id returns the existing lease unchanged. On failure nothing is left behind.
     *
     * @param quotaBytes egress quota, {@link Bandwidth#UNMETERED} (-1) for none, usually {@link Bandwidth#DEFAULT_QUOTA}
     */
    public synchronized SandboxLease acquire(String vmId, SandboxIdentity identity, EgressPolicy egress, long quotaBytes)
            throws IOException {
        VmSpec.checkId(vmId);
        if (quotaBytes < Bandwidth.UNMETERED) {
            throw new IllegalArgumentException("quota must be -1 (unmetered) or at least 0, not " + quotaBytes);
        }
        SandboxLease existing = leases.get(vmId);
        if (existing != null) {
            return existing;
        }
        int slot = freeSlot();
        int gateway = config.sandboxPool().address((long) slot * SUBNET_SIZE + 1);
        int address = gateway + 1;
        String mac = String.format("02:c5:%02x:%02x:%02x:%02x", address >>> 24, address >>> 16 & 255,
                address >>> 8 & 255, address & 255);
        SandboxLease lease = new SandboxLease(vmId, identity, slot, config.tapPrefix() + slot, mac,
                Ipv4Cidr.format(address), Ipv4Cidr.format(gateway), 30, egress.rules(), quotaBytes, Map.of());
        state.save(lease);
        try {
            Taps.create(lease.tap(), lease.gateway(), lease.prefix());
            nft.apply(rules.add(sandboxRules(lease, 0, 0, 0)));
        } catch (IOException | RuntimeException e) {
            try {
                Taps.delete(lease.tap());
                state.removeLease(vmId);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        leases.put(vmId, lease);
        nextSlot = slot + 1;
        reindex();
        log.info("VM {}: tap {}, address {}, egress {}", vmId, lease.tap(), lease.address(), egress);
        return lease;
    }

    public Optional<SandboxLease> lease(String vmId) {
        return Optional.ofNullable(leases.get(vmId));
    }

    /** The lease whose guest holds {@code address} (its /30 address or a private network address). */
    public Optional<SandboxLease> leaseByAddress(String address) {
        return Optional.ofNullable(owners.get(address)).map(leases::get);
    }

    public List<SandboxLease> leases() {
        return leases.values().stream().sorted(Comparator.comparing(SandboxLease::vmId)).toList();
    }

    /**
     * Removes the tap, rules, sets, counters and network memberships of {@code vmId} and frees its addresses; a no-op
     * for an unknown id. Call after the VM is destroyed (a paused VM keeps its lease).
     */
    public synchronized void release(String vmId) throws IOException {
        SandboxLease lease = leases.get(vmId);
        if (lease == null) {
            return;
        }
        for (String networkId : List.copyOf(lease.networks().keySet())) {
            detach(networkId, vmId);
        }
        lease = leases.get(vmId);
        diskEndpoints.remove(vmId);
        String script = rules.remove(lease.slot(), lease.tap()) + (lease.quotaBytes() >= 0 ? rules.removeQuota(lease.slot()) : "");
        leases.remove(vmId);
        try {
            nft.apply(script);
        } catch (IOException e) {
            log.warn("VM {}: removing its rules failed, rebuilding the table: {}", vmId, e.getMessage());
            rebuild();
        }
        Taps.delete(lease.tap());
        state.removeLease(vmId);
        reindex();
        log.info("VM {}: released tap {} and address {}", vmId, lease.tap(), lease.address());
    }

    /** Releases every lease whose VM id is not in {@code keep} (call at start, after attaching running and paused VMs). */
    public synchronized void reconcile(Set<String> keep) throws IOException {
        for (String vmId : List.copyOf(leases.keySet())) {
            if (!keep.contains(vmId)) {
                log.info("VM {} is gone: releasing its network lease", vmId);
                release(vmId);
            }
        }
    }

    /** Replaces the allowlist atomically (one nft transaction); names admitted under the old list are forgotten. */
    public synchronized SandboxLease setEgress(String vmId, EgressPolicy egress) throws IOException {
        SandboxLease lease = require(vmId).withEgress(egress);
        nft.apply(rules.replaceEgress(lease.slot(), egress));
        state.save(lease);
        leases.put(vmId, lease);
        return lease;
    }

    /**
     * Lets {@code vmId} reach exactly these TCP endpoints (its mounted disks' S3 endpoints) whatever its allowlist
     * says; replaces the previous set. Kept in memory only: after a restart the owner of the mounts sets them again.
     */
    public synchronized void setDiskEndpoints(String vmId, Collection<InetSocketAddress> endpoints) throws IOException {
        SandboxLease lease = require(vmId);
        Set<String> elements = new TreeSet<>();
        for (InetSocketAddress endpoint : endpoints) {
            if (!(endpoint.getAddress() instanceof java.net.Inet4Address v4)) {
                throw new IllegalArgumentException("a disk endpoint must be a resolved IPv4 address, not " + endpoint);
            }
            elements.add(v4.getHostAddress() + " . " + endpoint.getPort());
        }
        nft.apply(rules.replaceDiskEndpoints(lease.slot(), elements));
        if (elements.isEmpty()) {
            diskEndpoints.remove(vmId);
        } else {
            diskEndpoints.put(vmId, Set.copyOf(elements));
        }
    }

    /** Current counters; byte deltas between two calls also tell whether a sandbox is active. */
    public Bandwidth bandwidth(String vmId) throws IOException {
        SandboxLease lease = require(vmId);
        return bandwidth(lease, nft.counters(), lease.quotaBytes() < 0 ? Map.of() : nft.quotas());
    }

    /** The counters of every lease (VM id -> bandwidth), read in one go: for polling many sandboxes. */
    public Map<String, Bandwidth> bandwidths() throws IOException {
        Map<String, Long> counters = nft.counters();
        Map<String, Nft.Quota> quotas = nft.quotas();
        Map<String, Bandwidth> all = new HashMap<>();
        for (SandboxLease lease : leases.values()) {
            all.put(lease.vmId(), bandwidth(lease, counters, quotas));
        }
        return all;
    }

    private static Bandwidth bandwidth(SandboxLease lease, Map<String, Long> counters, Map<String, Nft.Quota> quotas) {
        long used = counters.getOrDefault("cout_" + lease.slot(), 0L);
        long in = counters.getOrDefault("cin_" + lease.slot(), 0L);
        if (lease.quotaBytes() < 0) {
            return new Bandwidth(Bandwidth.UNMETERED, used, in, false);
        }
        Nft.Quota quota = quotas.get("q_" + lease.slot());
        boolean capped = quota != null && quota.used() >= quota.limit();
        return new Bandwidth(lease.quotaBytes(), used, in, capped);
    }

    /** Raises the quota by {@code addBytes} (> 0) and lifts the cap if that leaves some; a no-op when unmetered. */
    public synchronized Bandwidth recharge(String vmId, long addBytes) throws IOException {
        if (addBytes <= 0) {
            throw new IllegalArgumentException("add_bytes must be positive, not " + addBytes);
        }
        SandboxLease lease = require(vmId);
        if (lease.quotaBytes() < 0) {
            return bandwidth(vmId);
        }
        long quota = Math.addExact(lease.quotaBytes(), addBytes);
        Map<String, Long> counters = nft.counters();
        SandboxLease recharged = lease.withQuota(quota);
        long used = counters.getOrDefault("cout_" + lease.slot(), 0L);
        // The new quota starts from what actually went out: what was dropped while capped is not charged.
        nft.apply(rules.replaceQuota(sandboxRules(recharged, used, counters.getOrDefault("cin_" + lease.slot(), 0L), used),
                true));
        state.save(recharged);
        leases.put(vmId, recharged);
        return bandwidth(vmId);
    }

    /**
     * Creates private network {@code networkId} with a free /24 of the network pool; returns the existing one for a
     * known id.
     *
     * @throws IllegalStateException when the pool is exhausted
     */
    public synchronized PrivateNetwork createNetwork(String networkId, String name) throws IOException {
        if (networkId == null || !networkId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("bad network id '" + networkId + "'");
        }
        PrivateNetwork existing = networks.get(networkId);
        if (existing != null) {
            return existing;
        }
        Set<Integer> used = new HashSet<>();
        networks.values().forEach(n -> used.add(n.range().base()));
        long count = config.networkPool().size() / NETWORK_SIZE;
        for (long i = 0; i < count; i++) {
            int base = config.networkPool().address(i * NETWORK_SIZE);
            if (!used.contains(base)) {
                PrivateNetwork network = new PrivateNetwork(networkId, name,
                        new Ipv4Cidr(base, NETWORK_PREFIX).toString(), Map.of());
                state.save(network);
                networks.put(networkId, network);
                return network;
            }
        }
        throw new IllegalStateException("no free /24 left in the network pool " + config.networkPool());
    }

    /**
     * Creates private network {@code networkId} with the range {@code cidr} another host gave it (a network with
     * members on several hosts has one range everywhere); returns the existing one when it has that range.
     *
     * @throws IllegalStateException when the network exists with another range, or the range is taken here
     */
    public synchronized PrivateNetwork createNetwork(String networkId, String name, String cidr) throws IOException {
        if (networkId == null || !networkId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("bad network id '" + networkId + "'");
        }
        Ipv4Cidr range = Ipv4Cidr.parse(cidr);
        if (range.prefix() != NETWORK_PREFIX || !range.toString().equals(cidr)) {
            throw new IllegalArgumentException("a network range is a /" + NETWORK_PREFIX + ", not '" + cidr + "'");
        }
        PrivateNetwork existing = networks.get(networkId);
        if (existing != null) {
            if (!existing.cidr().equals(cidr)) {
                throw new IllegalStateException("network " + networkId + " has the range " + existing.cidr()
                        + " on this host, not " + cidr);
            }
            return existing;
        }
        if (range.overlaps(config.sandboxPool())) {
            throw new IllegalStateException("range " + cidr + " of network " + networkId + " overlaps this host's"
                    + " sandbox pool " + config.sandboxPool());
        }
        for (PrivateNetwork other : networks.values()) {
            if (other.range().overlaps(range)) {
                throw new IllegalStateException("range " + cidr + " of network " + networkId + " is taken here by"
                        + " network " + other.id());
            }
        }
        PrivateNetwork network = new PrivateNetwork(networkId, name, cidr, Map.of());
        state.save(network);
        networks.put(networkId, network);
        if (!config.networkPool().overlaps(range)) {
            nft.apply(rules.addForeignRange(range));
        }
        return network;
    }

    /**
     * The members of {@code networkId} on other hosts, as the control plane knows them now (replacing what it said
     * before): they are peers of its members here, by address and by name, over the network's overlay, which exists
     * while the network has members both here and elsewhere. {@code localUnderlay}: this host's underlay address.
     */
    public synchronized void setRemoteMembers(String networkId, List<RemoteMember> remote, String localUnderlay)
            throws IOException {
        PrivateNetwork network = requireNetwork(networkId);
        if (!remote.isEmpty()) {
            if (localUnderlay == null || !Ipv4Cidr.isAddress(localUnderlay)) {
                throw new IllegalStateException("this host has no overlay address (--overlay-address), so network "
                        + networkId + " cannot reach its members on other hosts");
            }
            Ipv4Cidr range = network.range();
            Set<String> here = new HashSet<>(network.members().values());
            for (RemoteMember member : remote) {
                if (!range.contains(Ipv4Cidr.parseAddress(member.address()))) {
                    throw new IllegalArgumentException("remote member " + member.sandboxId() + " has the address "
                            + member.address() + ", outside network " + networkId + " (" + range + ")");
                }
                if (here.contains(member.address())) {
                    throw new IllegalStateException("remote member " + member.sandboxId() + " has the address "
                            + member.address() + " of a member of network " + networkId + " on this host");
                }
            }
            if (!localUnderlay.equals(underlay)) {
                java.nio.file.Path file = config.stateDir().resolve(UNDERLAY_FILE);
                java.nio.file.Files.writeString(file, localUnderlay);
                underlay = localUnderlay;
            }
        }
        PrivateNetwork updated = network.withRemote(remote);
        state.save(updated);
        networks.put(networkId, updated);
        applyOverlay(updated);
        applyAddresses(updated.members().keySet());
    }

    public Optional<PrivateNetwork> network(String networkId) {
        return Optional.ofNullable(networks.get(networkId));
    }

    public List<PrivateNetwork> networks() {
        return networks.values().stream().sorted(Comparator.comparing(PrivateNetwork::id)).toList();
    }

    /** Detaches every remaining member and frees the CIDR; a no-op for an unknown id. */
    public synchronized void deleteNetwork(String networkId) throws IOException {
        PrivateNetwork network = networks.get(networkId);
        if (network == null) {
            return;
        }
        for (String vmId : List.copyOf(network.members().keySet())) {
            detach(networkId, vmId);
        }
        networks.remove(networkId);
        state.removeNetwork(networkId);
    }

    /**
     * Makes {@code vmId} a member: a stable address in the network's CIDR, reachable from the other members on every
     * port and by name. The host side is in force on return; the guest learns its new address from
     * {@link #configureGuest} (call it for a running VM; a booting or resuming one gets it anyway).
     *
     * @return the member's address
     * @throws IllegalStateException when already a member
     * @throws NoSuchElementException for an unknown network or VM
     */
    public synchronized String attach(String networkId, String vmId) throws IOException {
        PrivateNetwork network = requireNetwork(networkId);
        SandboxLease lease = require(vmId);
        if (network.members().containsKey(vmId)) {
            throw new IllegalStateException("VM " + vmId + " is already a member of network " + networkId);
        }
        Ipv4Cidr range = network.range();
        Set<String> taken = new HashSet<>(network.members().values());
        network.remote().forEach(m -> taken.add(m.address()));
        String address = null;
        for (long i = 2; i < range.size() - 1 && address == null; i++) {
            String candidate = Ipv4Cidr.format(range.address(i));
            if (!taken.contains(candidate)) {
                address = candidate;
            }
        }
        if (address == null) {
            throw new IllegalStateException("network " + networkId + " (" + range + ") has no free address left");
        }
        Map<String, String> members = new HashMap<>(network.members());
        members.put(vmId, address);
        Map<String, String> memberships = new HashMap<>(lease.networks());
        memberships.put(networkId, address);
        PrivateNetwork updated = network.withMembers(members);
        SandboxLease attached = lease.withNetworks(memberships);
        state.save(updated);
        state.save(attached);
        networks.put(networkId, updated);
        leases.put(vmId, attached);
        Taps.routeTo(address, lease.tap());
        applyOverlay(updated);
        applyAddresses(members.keySet());
        reindex();
        return address;
    }

    /** Cuts the member off at once (established connections included) and frees its address; no-op for a non-member. */
    public synchronized void detach(String networkId, String vmId) throws IOException {
        PrivateNetwork network = requireNetwork(networkId);
        String address = network.members().get(vmId);
        if (address == null) {
            return;
        }
        Map<String, String> members = new HashMap<>(network.members());
        members.remove(vmId);
        PrivateNetwork updated = network.withMembers(members);
        state.save(updated);
        networks.put(networkId, updated);
        Set<String> affected = new HashSet<>(members.keySet());
        SandboxLease lease = leases.get(vmId);
        if (lease != null) {
            Map<String, String> memberships = new HashMap<>(lease.networks());
            memberships.remove(networkId);
            SandboxLease detached = lease.withNetworks(memberships);
            state.save(detached);
            leases.put(vmId, detached);
            affected.add(vmId);
            Taps.unroute(address, lease.tap());
        }
        applyOverlay(updated);
        applyAddresses(affected);
        reindex();
    }

    /** What the guest of {@code vmId} must have configured now (addresses, gateway, resolver). */
    public Optional<GuestNetwork> guestNetwork(String vmId) {
        SandboxLease lease = leases.get(vmId);
        if (lease == null) {
            return Optional.empty();
        }
        Map<String, Integer> prefixes = new HashMap<>();
        lease.networks().keySet().forEach(id -> prefixes.put(id, NETWORK_PREFIX));
        return Optional.of(lease.guestNetwork(prefixes, config.searchDomain()));
    }

    /** Sends the current {@link #guestNetwork} to a running guest (after attach/detach). */
    public void configureGuest(String vmId, AgentClient agent) throws IOException {
        GuestNetwork network = guestNetwork(vmId).orElseThrow(() -> new IllegalArgumentException("no lease for VM " + vmId));
        agent.configure(GuestConfiguration.network(network));
    }

    /** {@link NicSource}: the tap and guest configuration of a leased VM, empty without a lease. */
    @Override
    public Optional<VmNic> nic(String vmId) {
        SandboxLease lease = leases.get(vmId);
        return guestNetwork(vmId).map(network -> new VmNic(lease.tap(), network));
    }

    /**
     * Removes everything of this instance: every lease and network, the nft table, the kept state, and stops the
     * forwarder (uninstall, tests). VMs using the leases lose their network.
     */
    public synchronized void destroy() throws IOException {
        for (String networkId : List.copyOf(networks.keySet())) {
            deleteNetwork(networkId);
        }
        for (String vmId : List.copyOf(leases.keySet())) {
            release(vmId);
        }
        if (nft.tableExists()) {
            nft.apply("delete table inet " + config.table() + "\n");
        }
        close();
    }

    /** Stops the DNS forwarder; taps and rules stay for the next {@link #open} (VMs keep running). */
    @Override
    public void close() {
        if (dns != null) {
            dns.close();
        }
    }

    private SandboxLease require(String vmId) {
        SandboxLease lease = leases.get(vmId);
        if (lease == null) {
            throw new NoSuchElementException("no network lease for VM " + vmId);
        }
        return lease;
    }

    private PrivateNetwork requireNetwork(String networkId) {
        PrivateNetwork network = networks.get(networkId);
        if (network == null) {
            throw new NoSuchElementException("no network " + networkId);
        }
        return network;
    }

    /** The lowest slot at or after the round-robin cursor that no lease holds. */
    private int freeSlot() {
        Set<Integer> used = new HashSet<>();
        leases.values().forEach(l -> used.add(l.slot()));
        int slots = (int) (config.sandboxPool().size() / SUBNET_SIZE);
        for (int i = 0; i < slots; i++) {
            int slot = (nextSlot + i) % slots;
            if (!used.contains(slot)) {
                return slot;
            }
        }
        throw new IllegalStateException("the sandbox address pool " + config.sandboxPool() + " is exhausted");
    }

    /** Rewrites the src and peers sets of the given VMs in one transaction. */
    private void applyAddresses(Set<String> vmIds) throws IOException {
        StringBuilder script = new StringBuilder();
        for (String id : new TreeSet<>(vmIds)) {
            SandboxLease lease = leases.get(id);
            if (lease != null) {
                script.append(rules.replaceAddresses(lease.slot(), ownAddresses(lease), peers(lease)));
            }
        }
        if (!script.isEmpty()) {
            nft.apply(script.toString());
        }
    }

    private static Set<String> ownAddresses(SandboxLease lease) {
        Set<String> own = new LinkedHashSet<>();
        own.add(lease.address());
        own.addAll(new TreeSet<>(lease.networks().values()));
        return own;
    }

    /** The addresses of the members of every network {@code lease} is in, other than its own. */
    private Set<String> peers(SandboxLease lease) {
        Set<String> peers = new TreeSet<>();
        for (String networkId : lease.networks().keySet()) {
            PrivateNetwork network = networks.get(networkId);
            if (network != null) {
                network.members().forEach((vmId, address) -> {
                    if (!vmId.equals(lease.vmId())) {
                        peers.add(address);
                    }
                });
                network.remote().forEach(m -> peers.add(m.address()));
            }
        }
        return peers;
    }

    private NftRuleset.Sandbox sandboxRules(SandboxLease lease, long used, long in, long quotaUsed) {
        return new NftRuleset.Sandbox(lease.slot(), lease.tap(), ownAddresses(lease), peers(lease),
                lease.egressPolicy(), lease.quotaBytes(), used, in, quotaUsed);
    }

    /** Replaces the whole table from the leases, carrying the counters and quota use over. */
    private void rebuild() throws IOException {
        Map<String, Long> counters = nft.counters();
        Map<String, Nft.Quota> quotas = nft.quotas();
        List<NftRuleset.Sandbox> sandboxes = new ArrayList<>();
        for (SandboxLease lease : leases()) {
            long used = counters.getOrDefault("cout_" + lease.slot(), 0L);
            Nft.Quota quota = quotas.get("q_" + lease.slot());
            sandboxes.add(sandboxRules(lease, used, counters.getOrDefault("cin_" + lease.slot(), 0L),
                    quota == null ? used : quota.used()));
        }
        List<Ipv4Cidr> closed = new ArrayList<>(List.of(config.sandboxPool(), config.networkPool()));
        closed.addAll(config.blocked());
        StringBuilder script = new StringBuilder(rules.table(closed, NetworkConfig.PRIVATE_RANGES,
                config.openedPrivate(), config.sandboxPool(), config.networkPool(), sandboxes));
        for (PrivateNetwork network : networks()) {
            if (!config.networkPool().overlaps(network.range())) {
                script.append(rules.addForeignRange(network.range()));
            }
            if (activeOverlays.contains(overlayDevice(network))) {
                script.append(rules.addOverlay(overlayDevice(network), vniName(network), localAddresses(network),
                        remoteAddresses(network)));
            }
        }
        for (SandboxLease lease : leases()) {
            Set<String> endpoints = diskEndpoints.get(lease.vmId());
            if (endpoints != null) {
                script.append(rules.replaceDiskEndpoints(lease.slot(), endpoints));
            }
        }
        nft.apply(script.toString());
    }

    private static final String UNDERLAY_FILE = "overlay-address";

    /** Whether the network has members here and on other hosts (then its overlay device exists). */
    private static boolean spansHosts(PrivateNetwork network) {
        return !network.members().isEmpty() && !network.remote().isEmpty();
    }

    private String overlayDevice(PrivateNetwork network) {
        return Vxlan.device(config.instance(), network.range());
    }

    private static String vniName(PrivateNetwork network) {
        return Integer.toHexString(Vxlan.vni(network.range()));
    }

    private static Set<String> localAddresses(PrivateNetwork network) {
        return new TreeSet<>(network.members().values());
    }

    private static Set<String> remoteAddresses(PrivateNetwork network) {
        Set<String> remote = new TreeSet<>();
        network.remote().forEach(m -> remote.add(m.address()));
        return remote;
    }

    private String requireUnderlay() {
        if (underlay == null) {
            throw new IllegalStateException("this host has no overlay address (--overlay-address)");
        }
        return underlay;
    }

    /** Brings the network's overlay device, its routes and its nft part in line with its members (here and remote). */
    private void applyOverlay(PrivateNetwork network) throws IOException {
        String device = overlayDevice(network);
        String vni = vniName(network);
        if (!spansHosts(network)) {
            if (activeOverlays.remove(device)) {
                nft.apply(rules.removeOverlay(device, vni));
            }
            Vxlan.delete(device);
            return;
        }
        Vxlan.create(device, Vxlan.vni(network.range()), requireUnderlay());
        Vxlan.route(device, network.remote());
        if (activeOverlays.contains(device)) {
            nft.apply(rules.replaceOverlay(vni, localAddresses(network), remoteAddresses(network)));
        } else {
            nft.apply(rules.addOverlay(device, vni, localAddresses(network), remoteAddresses(network)));
            activeOverlays.add(device);
        }
        log.info("network {}: overlay {} (VNI {}) to {} remote member(s)", network.id(), device,
                Vxlan.vni(network.range()), network.remote().size());
    }

    private void reindex() {
        Map<String, String> index = new HashMap<>();
        for (SandboxLease lease : leases.values()) {
            index.put(lease.address(), lease.vmId());
            lease.networks().values().forEach(a -> index.put(a, lease.vmId()));
        }
        owners = Map.copyOf(index);
    }

    /** Names of private network peers, and admission of allowed names' addresses. */
    private final class ForwarderPolicy implements DnsForwarder.Policy {
        @Override
        public Optional<String> client(InetAddress source) {
            return Optional.ofNullable(owners.get(source.getHostAddress()));
        }

        @Override
        public Optional<List<InetAddress>> local(String vmId, String name) {
            SandboxLease asker = leases.get(vmId);
            if (asker == null) {
                return Optional.empty();
            }
            return MemberNames.resolve(name, config.searchDomain(), asker, networks, leases).map(addresses -> {
                List<InetAddress> parsed = new ArrayList<>();
                for (String address : addresses) {
                    try {
                        parsed.add(InetAddress.getByName(address)); // a literal: no lookup
                    } catch (IOException e) {
                        throw new IllegalStateException("bad member address " + address, e);
                    }
                }
                return parsed;
            });
        }

        @Override
        public void answered(String vmId, String name, List<ARecord> records) throws IOException {
            SandboxLease lease = leases.get(vmId);
            if (lease == null || records.isEmpty()) {
                return;
            }
            EgressPolicy policy = lease.egressPolicy();
            if (policy.isOpen()) {
                return;
            }
            long ttl = Math.max(MIN_ADMIT_SECONDS, records.stream().mapToLong(ARecord::getTTL).max().orElse(0));
            List<String> addresses = records.stream().map(r -> r.getAddress().getHostAddress()).distinct().toList();
            StringBuilder script = new StringBuilder();
            for (EgressRule rule : policy.parsed()) {
                if (rule instanceof EgressRule.Name n && n.matches(name)) {
                    script.append(rules.admit(lease.slot(), addresses, n.port(), ttl));
                }
            }
            if (!script.isEmpty()) {
                synchronized (HostNetwork.this) {
                    // the list may have been replaced meanwhile: admit only under the one that matched
                    SandboxLease current = leases.get(vmId);
                    if (current != null && current.egress().equals(lease.egress())) {
                        nft.apply(script.toString());
                    }
                }
            }
        }
    }
}
