package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.HostEvent;
import sh.createos.sandbox.host.net.RemoteMember;
import sh.createos.sandbox.server.host.Inventory;
import sh.createos.sandbox.server.host.NetworkMember;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.host.VmShape;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Several machines as one {@link Host}: each sandbox-keyed call goes to the machine its row names ({@code host_id}).
 * A create is placed before its row is written ({@link #place}): on the requested {@code host_id}, else on a machine
 * whose labels match the {@code node_selector}, that answers, heartbeats and has room for its memory; of those the
 * one that runs the fewest VMs, then has the most free memory. No machine carries the labels: INVALID (400); none of
 * those that do has room or answers: UNAVAILABLE (503), nothing started. A fork goes where its source's snapshot is.
 *
 * <p>Machines come from the command line or register themselves ({@link HostRegistry}); a registered one that stopped
 * heartbeating is {@linkplain #markDown down}: nothing is placed on it, its sandboxes' calls answer HOST_UNREACHABLE
 * (503) at once, without waiting on the network, and it shows {@code dead} in {@code GET /v1/hosts}, until its next
 * heartbeat. Its rows stay as they are (its VMs keep running on the machine; reconcile skips a host that does not
 * answer), so they come back with it.
 */
public final class HostsOfHosts implements Host {
    private static final Logger log = LoggerFactory.getLogger(HostsOfHosts.class);
    public static final String ID = "hosts";

    /** By id, sorted (so {@code GET /v1/hosts} lists them in a stable order). */
    private final Map<String, Member> hosts = new ConcurrentSkipListMap<>();
    private final Store store;
    /** Where each sandbox went, as decided here or found in an inventory; the row's host_id otherwise. */
    private final Map<String, String> placed = new ConcurrentHashMap<>();
    /** When each placement whose row may not be written yet was made (a create refused after placement has none). */
    private final Map<String, Long> placedAtNanos = new ConcurrentHashMap<>();
    private static final long ADMISSION_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
    private final List<Consumer<HostEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile ControlPlaneHosts.Registration registration;

    /** One machine: its host, its placement labels, and why it is down (null while it heartbeats). */
    private static final class Member {
        final Host host;
        volatile Map<String, String> labels;
        volatile String down;

        Member(Host host, Map<String, String> labels) {
            this.host = host;
            this.labels = Map.copyOf(labels);
        }
    }

    public HostsOfHosts(Store store, Collection<? extends Host> members) {
        this.store = store;
        for (Host member : members) {
            add(member, member.labels());
        }
    }

    /**
     * Adds a machine, or replaces the one of the same id (a daemon that moved to another address); the replaced
     * client is closed. Its events are this host's events.
     */
    public synchronized void add(Host host, Map<String, String> labels) {
        Member same = hosts.get(host.id());
        if (same != null && same.host == host) {
            same.labels = Map.copyOf(labels); // as last reported; up or down as it was
            return;
        }
        Member previous = hosts.put(host.id(), new Member(host, labels));
        host.onEvent(event -> {
            Member current = hosts.get(host.id());
            if (current != null && current.host == host) {
                listeners.forEach(l -> l.accept(event));
            }
        });
        if (previous != null && previous.host instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                log.debug("closing the old client of host {}: {}", host.id(), e.getMessage());
            }
        }
    }

    /** Host daemons may register themselves through {@code registration} (its routes serve the heartbeats). */
    void acceptRegistrations(ControlPlaneHosts.Registration registration) {
        this.registration = registration;
    }

    /** How host daemons register with this control plane, if they may. */
    public Optional<ControlPlaneHosts.Registration> registration() {
        return Optional.ofNullable(registration);
    }

    /** The machine {@code hostId} is down for {@code reason} (no heartbeat): see the class comment. */
    public void markDown(String hostId, String reason) {
        Member member = hosts.get(hostId);
        if (member != null && member.down == null) {
            log.warn("host {} is unavailable: {}", hostId, reason);
        }
        if (member != null) {
            member.down = reason;
        }
    }

    /** The machine heartbeats again. */
    public void markUp(String hostId) {
        Member member = hosts.get(hostId);
        if (member != null && member.down != null) {
            log.info("host {} is available again", hostId);
            member.down = null;
        }
    }

    /** The machine's host client, if it is one of ours. */
    public Optional<Host> member(String hostId) {
        return Optional.ofNullable(hosts.get(hostId)).map(m -> m.host);
    }

    /** The machines that heartbeat (or were given on the command line). */
    private List<Member> up() {
        return hosts.values().stream().filter(m -> m.down == null).toList();
    }

    /** The machine of a placed sandbox. @throws DomainException HOST_UNREACHABLE when it is down or not ours */
    private Host of(String sandboxId) {
        String hostId = placed.get(sandboxId);
        if (hostId == null) {
            hostId = store.sandbox(sandboxId).map(SandboxRecord::hostId).orElse(null);
        }
        if (hostId == null) {
            return placeRow(sandboxId);
        }
        Member member = hosts.get(hostId);
        if (member == null) {
            throw new DomainException(ErrorCode.HOST_UNREACHABLE, "sandbox " + sandboxId + " is on host " + hostId
                    + ", which this control plane does not know");
        }
        if (member.down != null) {
            throw new DomainException(ErrorCode.HOST_UNREACHABLE, "sandbox " + sandboxId + " is on host " + hostId
                    + ", which is unavailable: " + member.down);
        }
        placed.putIfAbsent(sandboxId, hostId);
        return member.host;
    }

    /** A row without a host (written before placement happened at create): placed now, and the row says where. */
    private Host placeRow(String sandboxId) {
        SandboxRecord row = store.sandbox(sandboxId).orElseThrow(() -> new IllegalStateException("sandbox "
                + sandboxId + " has no row to place"));
        String chosen = place(sandboxId, row.memMib(), null, null);
        // In the row at once, so every replica routes the sandbox's next calls to the same machine.
        store.updateSandbox(row.withHostId(chosen), row.status());
        return hosts.get(chosen).host;
    }

    @Override
    public String place(String sandboxId, int memMib, String requestedHost, Map<String, String> nodeSelector) {
        Map<String, String> selector = nodeSelector == null ? Map.of() : nodeSelector;
        List<Member> candidates = new ArrayList<>();
        for (Member member : hosts.values()) {
            if ((requestedHost == null || member.host.id().equals(requestedHost))
                    && member.labels.entrySet().containsAll(selector.entrySet())) {
                candidates.add(member);
            }
        }
        if (hosts.isEmpty()) {
            throw DomainException.unavailable("no host with capacity: no host has registered yet");
        }
        if (candidates.isEmpty()) {
            throw DomainException.invalid(requestedHost == null
                    ? "no host has the labels " + selector + " (node_selector); hosts: " + labelsOfAll()
                    : "host '" + requestedHost + "' " + (hosts.containsKey(requestedHost)
                            ? "does not have the labels " + selector + " (node_selector)" : "is unknown"));
        }
        Map<Host, HostPublic> usable = new HashMap<>();
        List<String> why = new ArrayList<>();
        for (Member member : candidates) {
            Host host = member.host;
            if (member.down != null) {
                why.add(host.id() + ": unavailable (" + member.down + ")");
            } else if (host.problem().isPresent()) {
                why.add(host.id() + ": " + host.problem().get());
            } else if (!host.hasMemoryFor(memMib)) {
                why.add(host.id() + ": not " + memMib + " MiB free");
            } else {
                usable.put(host, host.view());
            }
        }
        Host chosen = usable.keySet().stream()
                .min(Comparator.<Host>comparingInt(h -> usable.get(h).vmCount() + starting(h.id()))
                        .thenComparing(h -> -usable.get(h).freeMib()))
                .orElseThrow(() -> DomainException.unavailable("no host with capacity: " + String.join("; ", why)));
        placed.put(sandboxId, chosen.id());
        placedAtNanos.put(sandboxId, System.nanoTime());
        log.info("sandbox {} placed on host {}", sandboxId, chosen.id());
        return chosen.id();
    }

    private Map<String, Map<String, String>> labelsOfAll() {
        Map<String, Map<String, String>> all = new LinkedHashMap<>();
        hosts.forEach((id, m) -> all.put(id, m.labels));
        return all;
    }

    /** Sandboxes placed on {@code hostId} that are still starting (so that concurrent creates spread too). */
    private int starting(String hostId) {
        int n = 0;
        long now = System.nanoTime();
        for (Map.Entry<String, String> e : placed.entrySet()) {
            if (!e.getValue().equals(hostId)) {
                continue;
            }
            Optional<SandboxStatus> status = store.sandbox(e.getKey()).map(SandboxRecord::status);
            Long at = placedAtNanos.get(e.getKey());
            if (status.isPresent()) {
                placedAtNanos.remove(e.getKey());
                if (status.get() == SandboxStatus.CREATING || status.get() == SandboxStatus.FORKING) {
                    n++;
                }
            } else if (at != null && now - at < ADMISSION_NANOS) {
                n++; // its row is being admitted
            } else if (at != null) {
                // Refused after placement (sandbox cap, disk): no row will come.
                placedAtNanos.remove(e.getKey());
                placed.remove(e.getKey(), hostId);
            }
        }
        return n;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public boolean owns(String hostId) {
        return hosts.containsKey(hostId);
    }

    @Override
    public Map<String, String> labels() {
        return Map.of();
    }

    @Override
    public String hostOf(String sandboxId) {
        return of(sandboxId).id();
    }

    @Override
    public Optional<String> problem() {
        if (hosts.isEmpty()) {
            return Optional.of("no host has registered yet");
        }
        List<String> problems = new ArrayList<>();
        for (Member member : hosts.values()) {
            Optional<String> problem = member.down != null ? Optional.of("unavailable (" + member.down + ")")
                    : member.host.problem();
            if (problem.isEmpty()) {
                return Optional.empty();
            }
            problems.add(member.host.id() + ": " + problem.get());
        }
        return Optional.of("no usable host (" + String.join("; ", problems) + ")");
    }

    @Override
    public List<String> images() {
        Set<String> images = new TreeSet<>();
        up().forEach(m -> images.addAll(m.host.images()));
        return List.copyOf(images);
    }

    /** The catalog of every machine that is up, each image once (the first machine's entry for it). */
    @Override
    public List<sh.createos.sandbox.model.RootfsData.Entry> imageEntries() {
        Map<String, sh.createos.sandbox.model.RootfsData.Entry> entries = new java.util.TreeMap<>();
        up().forEach(m -> m.host.imageEntries().forEach(e -> entries.putIfAbsent(e.name(), e)));
        return List.copyOf(entries.values());
    }

    /** The largest size any machine that is up reports for it (a disk must hold it wherever the VM lands). */
    @Override
    public java.util.OptionalLong imageMib(String image) {
        return up().stream().map(m -> m.host.imageMib(image)).filter(java.util.OptionalLong::isPresent)
                .mapToLong(java.util.OptionalLong::getAsLong).max();
    }

    /** Whether some machine that is up has a desktop in it. */
    @Override
    public boolean hasDesktop(String image) {
        return up().stream().anyMatch(m -> m.host.hasDesktop(image));
    }

    @Override
    public boolean hasMemoryFor(int memMib) {
        return up().stream().anyMatch(m -> m.host.problem().isEmpty() && m.host.hasMemoryFor(memMib));
    }

    @Override
    public HostPublic view() {
        List<HostPublic> views = views();
        return new HostPublic(ID, views.stream().anyMatch(v -> v.status().equals("active")) ? "active" : "dead",
                views.stream().mapToLong(HostPublic::freeMib).sum(), views.stream().mapToInt(HostPublic::vmCount).sum(),
                images().isEmpty() ? null : images());
    }

    /** Live capacity of each machine that is up; one that is down is {@code dead} with nothing free, asked nothing. */
    @Override
    public List<HostPublic> views() {
        return hosts.values().stream().map(m -> {
            if (m.down == null) {
                HostPublic view = m.host.view();
                return view.labels() != null || m.labels.isEmpty() ? view : new HostPublic(view.id(), view.status(),
                        view.freeMib(), view.vmCount(), view.rootfses(), view.accelerator(), view.acceleratorReason(),
                        m.labels);
            }
            return new HostPublic(m.host.id(), "dead", 0, 0, null, null, null, m.labels.isEmpty() ? null : m.labels);
        }).toList();
    }

    @Override
    public Started create(String sandboxId, VmShape shape) throws IOException {
        return of(sandboxId).create(sandboxId, shape);
    }

    @Override
    public SnapshotRef pause(String sandboxId) throws IOException {
        return of(sandboxId).pause(sandboxId);
    }

    @Override
    public Started resume(String sandboxId) throws IOException {
        return of(sandboxId).resume(sandboxId);
    }

    /** On the source's machine, where its snapshot is (the child's row names it too). */
    @Override
    public Started fork(String sourceId, String childId, VmShape child) throws IOException {
        Host source = of(sourceId);
        placed.put(childId, source.id());
        return source.fork(sourceId, childId, child);
    }

    @Override
    public Optional<SnapshotRef> snapshot(String sandboxId) throws IOException {
        return of(sandboxId).snapshot(sandboxId);
    }

    @Override
    public boolean isRunning(String sandboxId) {
        return of(sandboxId).isRunning(sandboxId);
    }

    @Override
    public void resize(String sandboxId, int diskMib) throws IOException {
        of(sandboxId).resize(sandboxId, diskMib);
    }

    @Override
    public void destroyVm(String sandboxId) throws IOException {
        of(sandboxId).destroyVm(sandboxId);
    }

    @Override
    public void destroySnapshot(String sandboxId) throws IOException {
        of(sandboxId).destroySnapshot(sandboxId);
    }

    @Override
    public void discard(String sandboxId) throws IOException {
        of(sandboxId).discard(sandboxId);
    }

    @Override
    public AgentClient agent(String sandboxId) {
        return of(sandboxId).agent(sandboxId);
    }

    /** Every reachable machine's; one that does not answer holds its rows as they are until it does. */
    @Override
    public Inventory inventory() throws IOException {
        Set<String> running = new HashSet<>();
        Map<String, SnapshotRef> paused = new HashMap<>();
        Set<String> answered = new HashSet<>();
        for (Member member : up()) {
            Host host = member.host;
            Inventory inventory;
            try {
                inventory = host.inventory();
            } catch (DomainException e) {
                log.warn("host {} is not reconciled now: {}", host.id(), e.getMessage());
                continue;
            }
            answered.add(host.id());
            inventory.running().forEach(id -> placed.put(id, host.id()));
            inventory.paused().keySet().forEach(id -> placed.put(id, host.id()));
            running.addAll(inventory.running());
            paused.putAll(inventory.paused());
        }
        return new Inventory(running, paused, answered);
    }

    @Override
    public void adopt(String sandboxId) {
        of(sandboxId).adopt(sandboxId);
    }

    @Override
    public void detachAll() {
        if (registration != null) {
            registration.registry().close();
        }
        hosts.values().forEach(m -> m.host.detachAll());
    }

    @Override
    public void onEvent(Consumer<HostEvent> listener) {
        listeners.add(listener);
    }

    // --- network: a sandbox's on its machine; a private network spans machines over an overlay (networkMembers)

    @Override
    public boolean hasNetwork() {
        return up().stream().anyMatch(m -> m.host.hasNetwork());
    }

    @Override
    public String networkProblem() {
        return up().stream().map(m -> m.host).filter(h -> !h.hasNetwork())
                .map(h -> h.id() + ": " + h.networkProblem()).reduce((a, b) -> a + "; " + b).orElse(null);
    }

    @Override
    public String lease(String sandboxId, String name, List<String> egress, long quotaBytes) throws IOException {
        return of(sandboxId).lease(sandboxId, name, egress, quotaBytes);
    }

    @Override
    public boolean hasLease(String sandboxId) {
        return of(sandboxId).hasLease(sandboxId);
    }

    @Override
    public void releaseLease(String sandboxId) throws IOException {
        of(sandboxId).releaseLease(sandboxId);
    }

    @Override
    public void reconcileLeases(Collection<String> keep) throws IOException {
        for (Member member : up()) {
            Host host = member.host;
            try {
                host.reconcileLeases(keep);
            } catch (DomainException e) {
                log.warn("leases of host {} are not reconciled now: {}", host.id(), e.getMessage());
            }
        }
    }

    @Override
    public void setEgress(String sandboxId, List<String> rules) throws IOException {
        of(sandboxId).setEgress(sandboxId, rules);
    }

    @Override
    public Traffic traffic(String sandboxId) throws IOException {
        return of(sandboxId).traffic(sandboxId);
    }

    @Override
    public Traffic recharge(String sandboxId, long addBytes) throws IOException {
        return of(sandboxId).recharge(sandboxId, addBytes);
    }

    @Override
    public Map<String, Traffic> traffic() throws IOException {
        Map<String, Traffic> all = new HashMap<>();
        for (Member member : up()) {
            Host host = member.host;
            try {
                all.putAll(host.traffic());
            } catch (DomainException e) {
                log.debug("no counters from host {}: {}", host.id(), e.getMessage());
            }
        }
        return all;
    }

    @Override
    public boolean hasPrivateNetwork(String networkId) {
        return up().stream().map(m -> m.host).anyMatch(h -> h.hasNetwork() && h.hasPrivateNetwork(networkId));
    }

    /** The first machine picks the range; every other one gets the same (members on several machines share it). */
    @Override
    public String createPrivateNetwork(String networkId, String name) throws IOException {
        String cidr = null;
        for (Member member : up()) {
            Host host = member.host;
            if (!host.hasNetwork()) {
                continue;
            }
            if (cidr == null) {
                cidr = host.createPrivateNetwork(networkId, name);
            } else if (!host.hasPrivateNetwork(networkId)) {
                host.setRemoteMembers(networkId, name, cidr, List.of());
            }
        }
        return cidr;
    }

    /**
     * Tells every machine that has the network, or members of it, the members on the other machines with their
     * machines' overlay addresses (a machine makes the network with {@code cidr} if it lacks it). A member on a
     * machine that is down is left out until it is back.
     *
     * @throws DomainException UNAVAILABLE when members sit on several machines and one of those has no overlay address
     */
    @Override
    public void networkMembers(String networkId, String name, String cidr, List<NetworkMember> members)
            throws IOException {
        if (cidr == null) {
            return;
        }
        Map<String, List<NetworkMember>> byHost = new LinkedHashMap<>();
        for (NetworkMember member : members) {
            Host host;
            try {
                host = of(member.sandboxId());
            } catch (DomainException unreachable) {
                log.warn("network {}: member {} is not announced now: {}", networkId, member.sandboxId(),
                        unreachable.getMessage());
                continue;
            }
            byHost.computeIfAbsent(host.id(), k -> new ArrayList<>()).add(member);
        }
        Map<String, String> underlays = new HashMap<>();
        for (Member machine : up()) {
            Host host = machine.host;
            if (!host.hasNetwork() || !byHost.containsKey(host.id()) && !host.hasPrivateNetwork(networkId)) {
                continue;
            }
            List<RemoteMember> remote = new ArrayList<>();
            for (Map.Entry<String, List<NetworkMember>> other : byHost.entrySet()) {
                if (other.getKey().equals(host.id())) {
                    continue;
                }
                for (NetworkMember member : other.getValue()) {
                    if (member.ip() == null) {
                        continue;
                    }
                    String underlay = underlays.computeIfAbsent(other.getKey(), id -> hosts.get(id).host
                            .overlayAddress().orElseThrow(() -> DomainException.unavailable("host " + id + " has no"
                                    + " overlay address (host --overlay-address), so network " + networkId
                                    + " cannot span it and host " + host.id())));
                    remote.add(new RemoteMember(member.sandboxId(), member.name(), member.ip(), underlay));
                }
            }
            if (!remote.isEmpty() && host.overlayAddress().isEmpty()) {
                throw DomainException.unavailable("host " + host.id() + " has no overlay address (host"
                        + " --overlay-address), so network " + networkId + " cannot span it and other hosts");
            }
            host.setRemoteMembers(networkId, name, cidr, remote);
        }
    }

    @Override
    public void deletePrivateNetwork(String networkId) throws IOException {
        for (Member member : up()) {
            Host host = member.host;
            if (host.hasNetwork() && host.hasPrivateNetwork(networkId)) {
                host.deletePrivateNetwork(networkId);
            }
        }
    }

    @Override
    public String join(String networkId, String sandboxId) throws IOException {
        return of(sandboxId).join(networkId, sandboxId);
    }

    @Override
    public void leave(String networkId, String sandboxId) throws IOException {
        of(sandboxId).leave(networkId, sandboxId);
    }

    @Override
    public void configureGuest(String sandboxId) throws IOException {
        of(sandboxId).configureGuest(sandboxId);
    }
}
