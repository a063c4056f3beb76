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
import sh.createos.sandbox.server.host.Inventory;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.host.VmShape;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Several machines as one {@link Host}: each sandbox-keyed call goes to the machine its row names ({@code host_id});
 * a sandbox that has none yet is placed on its first call (its lease, before its VM starts): the row's requested
 * {@code host_id} if it has one (a fork's is its source's, where the snapshot is), else the usable machine with
 * room for its memory that runs the fewest VMs, then has the most free memory. No machine with room: UNAVAILABLE
 * (503), nothing started.
 */
public final class HostsOfHosts implements Host {
    private static final Logger log = LoggerFactory.getLogger(HostsOfHosts.class);
    public static final String ID = "hosts";

    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final Store store;
    /** Where each sandbox went, as decided here or found in an inventory; the row's host_id otherwise. */
    private final Map<String, String> placed = new ConcurrentHashMap<>();
    private final List<Consumer<HostEvent>> listeners = new CopyOnWriteArrayList<>();

    public HostsOfHosts(Store store, Collection<? extends Host> members) {
        this.store = store;
        for (Host member : members) {
            hosts.put(member.id(), member);
            member.onEvent(event -> listeners.forEach(l -> l.accept(event)));
        }
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("no hosts");
        }
    }

    /** The machine of a placed sandbox. @throws DomainException HOST_UNREACHABLE when its host is not one of ours */
    private Host of(String sandboxId) {
        String hostId = placed.get(sandboxId);
        if (hostId == null) {
            hostId = store.sandbox(sandboxId).map(SandboxRecord::hostId).orElse(null);
        }
        if (hostId == null) {
            return place(sandboxId);
        }
        Host host = hosts.get(hostId);
        if (host == null) {
            throw new DomainException(ErrorCode.HOST_UNREACHABLE, "sandbox " + sandboxId + " is on host " + hostId
                    + ", which this control plane does not know");
        }
        placed.putIfAbsent(sandboxId, hostId);
        return host;
    }

    private Host place(String sandboxId) {
        SandboxRecord row = store.sandbox(sandboxId).orElseThrow(() -> new IllegalStateException("sandbox "
                + sandboxId + " has no row to place"));
        Map<Host, HostPublic> usable = new HashMap<>();
        for (Host host : hosts.values()) {
            if (host.problem().isEmpty() && host.hasMemoryFor(row.memMib())) {
                usable.put(host, host.view());
            }
        }
        Host chosen = usable.keySet().stream()
                .min(Comparator.<Host>comparingInt(h -> usable.get(h).vmCount() + starting(h.id()))
                        .thenComparing(h -> -usable.get(h).freeMib()))
                .orElseThrow(() -> DomainException.unavailable("no host with capacity: none of "
                        + hosts.keySet() + " has " + row.memMib() + " MiB free"));
        placed.put(sandboxId, chosen.id());
        // In the row at once, so every replica routes the sandbox's next calls to the same machine.
        store.updateSandbox(row.withHostId(chosen.id()), row.status());
        log.info("sandbox {} placed on host {}", sandboxId, chosen.id());
        return chosen;
    }

    /** Sandboxes placed on {@code hostId} that are still starting (so that concurrent creates spread too). */
    private int starting(String hostId) {
        int n = 0;
        for (Map.Entry<String, String> e : placed.entrySet()) {
            if (e.getValue().equals(hostId) && store.sandbox(e.getKey()).map(SandboxRecord::status)
                    .filter(s -> s == SandboxStatus.CREATING || s == SandboxStatus.FORKING).isPresent()) {
                n++;
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
    public String hostOf(String sandboxId) {
        return of(sandboxId).id();
    }

    @Override
    public Optional<String> problem() {
        List<String> problems = new ArrayList<>();
        for (Host host : hosts.values()) {
            Optional<String> problem = host.problem();
            if (problem.isEmpty()) {
                return Optional.empty();
            }
            problems.add(host.id() + ": " + problem.get());
        }
        return Optional.of("no usable host (" + String.join("; ", problems) + ")");
    }

    @Override
    public List<String> images() {
        Set<String> images = new TreeSet<>();
        hosts.values().forEach(h -> images.addAll(h.images()));
        return List.copyOf(images);
    }

    @Override
    public boolean hasMemoryFor(int memMib) {
        return hosts.values().stream().anyMatch(h -> h.problem().isEmpty() && h.hasMemoryFor(memMib));
    }

    @Override
    public HostPublic view() {
        List<HostPublic> views = views();
        return new HostPublic(ID, views.stream().anyMatch(v -> v.status().equals("active")) ? "active" : "dead",
                views.stream().mapToLong(HostPublic::freeMib).sum(), views.stream().mapToInt(HostPublic::vmCount).sum(),
                images().isEmpty() ? null : images());
    }

    @Override
    public List<HostPublic> views() {
        return hosts.values().stream().map(Host::view).toList();
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
        for (Host host : hosts.values()) {
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
        hosts.values().forEach(Host::detachAll);
    }

    @Override
    public void onEvent(Consumer<HostEvent> listener) {
        listeners.add(listener);
    }

    // --- network: a sandbox's on its machine; private networks exist on each machine (no overlay between them yet)

    @Override
    public boolean hasNetwork() {
        return hosts.values().stream().anyMatch(Host::hasNetwork);
    }

    @Override
    public String networkProblem() {
        return hosts.values().stream().filter(h -> !h.hasNetwork()).map(h -> h.id() + ": " + h.networkProblem())
                .reduce((a, b) -> a + "; " + b).orElse(null);
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
        for (Host host : hosts.values()) {
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
        for (Host host : hosts.values()) {
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
        return hosts.values().stream().anyMatch(h -> h.hasNetwork() && h.hasPrivateNetwork(networkId));
    }

    @Override
    public String createPrivateNetwork(String networkId, String name) throws IOException {
        String cidr = null;
        for (Host host : hosts.values()) {
            if (host.hasNetwork()) {
                String made = host.createPrivateNetwork(networkId, name);
                cidr = cidr == null ? made : cidr;
            }
        }
        return cidr;
    }

    @Override
    public void deletePrivateNetwork(String networkId) throws IOException {
        for (Host host : hosts.values()) {
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
