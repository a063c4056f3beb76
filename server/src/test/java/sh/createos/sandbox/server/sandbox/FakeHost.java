package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.HostEvent;
import sh.createos.sandbox.server.host.Inventory;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.host.VmShape;

/**
 * An in-memory {@link Host} for driving the control plane's state machine through interleavings in milliseconds:
 * VMs and snapshots are entries in sets, every call is recorded, and any step can be held at a {@link Gate} until
 * the test lets it go. Beside the real-VM tests, never instead of them.
 */
final class FakeHost implements Host {
    /** A step that stops until released: {@link #reached} counts down when a call arrives. */
    static final class Gate {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile IOException failure;

        void awaitReached() throws InterruptedException {
            if (!reached.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the gated step was never reached");
            }
        }
    }

    final Set<String> running = ConcurrentHashMap.newKeySet();
    /** Found by {@link #inventory} but not adopted yet. */
    final Set<String> unadopted = ConcurrentHashMap.newKeySet();
    final Map<String, Instant> snapshots = new ConcurrentHashMap<>();
    final Map<String, String> leases = new ConcurrentHashMap<>();
    final Set<String> discarded = ConcurrentHashMap.newKeySet();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, Gate> gates = new ConcurrentHashMap<>();
    /** The hosts its inventory answers for (null: all, as one machine's does). */
    volatile Set<String> answering;
    private final List<Consumer<HostEvent>> listeners = new CopyOnWriteArrayList<>();

    Gate gate(String step) {
        Gate gate = new Gate();
        gates.put(step, gate);
        return gate;
    }

    private void step(String step, String sandboxId) throws IOException {
        calls.add(step + " " + sandboxId);
        Gate gate = gates.remove(step);
        if (gate != null) {
            gate.reached.countDown();
            try {
                gate.release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (gate.failure != null) {
                throw gate.failure;
            }
        }
    }

    /** The VM died by itself: report it as the real host does. */
    void kill(String sandboxId) {
        running.remove(sandboxId);
        listeners.forEach(l -> l.accept(new HostEvent.VmExited(sandboxId, "its VM exited unexpectedly (killed)")));
    }

    /** Each fake is its own host: the reconciler leaves rows of other hosts alone. */
    private final String id = "fake-" + sh.createos.sandbox.server.Ulid.next().toLowerCase();

    @Override
    public String id() {
        return id;
    }

    @Override
    public Optional<String> problem() {
        return Optional.empty();
    }

    @Override
    public List<String> images() {
        return List.of("devbox:1");
    }

    @Override
    public boolean hasMemoryFor(int memMib) {
        return true;
    }

    @Override
    public HostPublic view() {
        return new HostPublic(id(), "active", 1024, running.size(), images());
    }

    @Override
    public Started create(String sandboxId, VmShape shape) throws IOException {
        step("create", sandboxId);
        running.add(sandboxId);
        return new Started("boot", 1);
    }

    @Override
    public SnapshotRef pause(String sandboxId) throws IOException {
        step("pause", sandboxId);
        if (!running.remove(sandboxId)) {
            throw new IOException("no VM of " + sandboxId);
        }
        snapshots.put(sandboxId, Instant.now());
        return new SnapshotRef(sandboxId, id(), snapshots.get(sandboxId), 1 << 20);
    }

    @Override
    public Started resume(String sandboxId) throws IOException {
        step("resume", sandboxId);
        if (snapshots.remove(sandboxId) == null) {
            throw new IOException("no snapshot of " + sandboxId);
        }
        running.add(sandboxId);
        return new Started("resume", 1);
    }

    @Override
    public Started fork(String sourceId, String childId, VmShape child) throws IOException {
        step("fork", childId);
        if (!snapshots.containsKey(sourceId)) {
            throw new IOException("no snapshot of " + sourceId);
        }
        running.add(childId);
        return new Started("fork", 1);
    }

    @Override
    public Optional<SnapshotRef> snapshot(String sandboxId) {
        Instant at = snapshots.get(sandboxId);
        return at == null ? Optional.empty() : Optional.of(new SnapshotRef(sandboxId, id(), at, 1 << 20));
    }

    @Override
    public boolean isRunning(String sandboxId) {
        return running.contains(sandboxId) && !unadopted.contains(sandboxId);
    }

    @Override
    public void resize(String sandboxId, int diskMib) {
        calls.add("resize " + sandboxId);
    }

    @Override
    public void destroyVm(String sandboxId) throws IOException {
        step("destroyVm", sandboxId);
        running.remove(sandboxId);
        unadopted.remove(sandboxId);
    }

    @Override
    public void destroySnapshot(String sandboxId) throws IOException {
        step("destroySnapshot", sandboxId);
        snapshots.remove(sandboxId);
    }

    @Override
    public void discard(String sandboxId) {
        calls.add("discard " + sandboxId);
        discarded.add(sandboxId);
    }

    @Override
    public AgentClient agent(String sandboxId) {
        throw new UnsupportedOperationException("the fake host has no guests");
    }

    @Override
    public Inventory inventory() {
        unadopted.addAll(running);
        Map<String, SnapshotRef> paused = new java.util.HashMap<>();
        snapshots.forEach((id, at) -> paused.put(id, new SnapshotRef(id, id(), at, 1 << 20)));
        return new Inventory(running, paused, answering);
    }

    @Override
    public void adopt(String sandboxId) {
        calls.add("adopt " + sandboxId);
        unadopted.remove(sandboxId);
    }

    @Override
    public void detachAll() {}

    @Override
    public void onEvent(Consumer<HostEvent> listener) {
        listeners.add(listener);
    }

    @Override
    public boolean hasNetwork() {
        return true;
    }

    @Override
    public String networkProblem() {
        return null;
    }

    @Override
    public String lease(String sandboxId, String name, List<String> egress, long quotaBytes) {
        String address = "10.0.0." + (leases.size() + 2);
        leases.put(sandboxId, address);
        return address;
    }

    @Override
    public boolean hasLease(String sandboxId) {
        return leases.containsKey(sandboxId);
    }

    @Override
    public void releaseLease(String sandboxId) {
        leases.remove(sandboxId);
    }

    @Override
    public void reconcileLeases(Collection<String> keep) {
        leases.keySet().retainAll(keep);
    }

    @Override
    public void setEgress(String sandboxId, List<String> rules) {}

    @Override
    public Traffic traffic(String sandboxId) {
        return new Traffic(-1, 0, 0, false);
    }

    @Override
    public Traffic recharge(String sandboxId, long addBytes) {
        return traffic(sandboxId);
    }

    @Override
    public Map<String, Traffic> traffic() {
        return Map.of();
    }

    @Override
    public boolean hasPrivateNetwork(String networkId) {
        return false;
    }

    @Override
    public String createPrivateNetwork(String networkId, String name) {
        return "10.201.0.0/24";
    }

    @Override
    public void deletePrivateNetwork(String networkId) {}

    @Override
    public String join(String networkId, String sandboxId) {
        return "10.201.0.2";
    }

    @Override
    public void leave(String networkId, String sandboxId) {}

    @Override
    public void configureGuest(String sandboxId) {}
}
