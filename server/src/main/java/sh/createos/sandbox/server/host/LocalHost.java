package sh.createos.sandbox.server.host;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.AgentMultiplexer;
import sh.createos.sandbox.host.agent.GuestNetwork;
import sh.createos.sandbox.host.agent.SelfSignalWatch;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.net.Bandwidth;
import sh.createos.sandbox.host.net.EgressPolicy;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.host.net.SandboxIdentity;
import sh.createos.sandbox.host.net.SandboxLease;
import sh.createos.sandbox.host.vmm.AcceleratorChoice;
import sh.createos.sandbox.host.vmm.AcceleratorProbe;
import sh.createos.sandbox.host.vmm.NicSource;
import sh.createos.sandbox.host.vmm.PausedVm;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.SnapshotIncompatibleException;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;
import sh.createos.sandbox.host.vmm.VmStart;
import sh.createos.sandbox.host.vmm.Vmm;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;

/**
 * This machine as a {@link Host}, in-process: its guest kit, its VMM, its network data path and the VMs this process
 * holds. Without a guest kit the server still starts (probes, catalog and reads work) and reports why it is not
 * ready; without networking (not configured, or the host cannot do it) sandboxes boot with an unconnected NIC.
 *
 * <p>Every held VM is watched: its QMP {@code SHUTDOWN} event, its QMP socket closing, and its VMM process (checked
 * every {@value #WATCH_MILLIS} ms); a VM that ended without a pause or destroy of ours is reported once as
 * {@link HostEvent.VmExited}; an agent {@code watch} stream per VM
 * turns self-signals into {@link HostEvent.SelfSignalled}.
 */
public final class LocalHost implements Host {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LocalHost.class);
    public static final String ID = "local";
    /** Below the SDK's 60 s client timeout, so a slow boot fails as a clear error, not a client timeout. */
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(50);
    /** Memory kept for the host itself and QEMU's own overhead per VM. */
    private static final long RESERVED_MIB = 256;
    static final long WATCH_MILLIS = 250;
    /** A relayed VM's agent answers HELLO at once; a loaded machine may take its time. */
    private static final java.time.Duration RELAY_HELLO_TIMEOUT = java.time.Duration.ofSeconds(30);

    private final Path dataDir;
    private final HostNetwork network;
    private final String networkProblem;
    /** sandbox id → its running VM, held by this process. */
    private final Map<String, Vm> live = new ConcurrentHashMap<>();
    private final Map<String, SelfSignalWatch> watches = new ConcurrentHashMap<>();
    /** Sandboxes whose VM we are ending ourselves (pause, destroy): their exit is no event. */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    /** What {@link #inventory} found and nobody decided about yet. */
    private final Map<String, Vm> found = new ConcurrentHashMap<>();
    private final Map<String, PausedVm> foundPaused = new ConcurrentHashMap<>();
    /** VMs that ended on their own, until their sandbox is destroyed. */
    private final Map<String, Vm> exitedVms = new ConcurrentHashMap<>();
    /** Snapshots this process made, for the inventories after the first. */
    private final Map<String, SnapshotRef> pausedHere = new ConcurrentHashMap<>();
    private boolean scanned;
    private final Set<String> capped = ConcurrentHashMap.newKeySet();
    /** Sandboxes whose agent connection is shared with control planes ({@link #agentMultiplexer}). */
    private final Map<String, AgentMultiplexer> relayed = new ConcurrentHashMap<>();
    private final Map<String, Object> relayLocks = new ConcurrentHashMap<>();
    /** This process's own client on a relayed sandbox's multiplexer. */
    private final Map<String, AgentClient> ownOnRelay = new ConcurrentHashMap<>();
    /** Sandboxes whose VM's own agent client was closed for a relay: their agent is reached through one only. */
    private final Set<String> handedOver = ConcurrentHashMap.newKeySet();
    private final List<Consumer<HostEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Thread exitWatch;
    private volatile boolean closed;
    /** This machine's underlay address for private-network overlays ({@code --overlay-address}); null: none. */
    private volatile String overlayAddress;
    private GuestKit kit;
    private Vmm vmm;
    private QemuVmm qemu;
    private AcceleratorChoice accelerator;
    private String kitProblem;

    private LocalHost(Path dataDir, HostNetwork network, String networkProblem) {
        this.dataDir = dataDir;
        this.network = network;
        this.networkProblem = networkProblem;
        this.exitWatch = Thread.ofVirtual().name("vm-exit-watch").unstarted(this::watchExits);
    }

    /** @param networkConfig the host network to run, or null for none */
    public static LocalHost open(Path dataDir, NetworkConfig networkConfig) {
        HostNetwork network = null;
        String problem = "networking is not configured for this server";
        if (networkConfig != null) {
            try {
                network = HostNetwork.open(networkConfig);
                problem = null;
            } catch (IOException | RuntimeException e) {
                problem = "opening the host network failed: " + e.getMessage();
                log.warn("sandboxes get no network: {}", problem);
            }
        }
        LocalHost host = new LocalHost(dataDir, network, problem);
        host.loadKit();
        host.exitWatch.start();
        return host;
    }

    @Override
    public String id() {
        return ID;
    }

    /** Loads the guest kit if it is not loaded yet: a setup that finishes after the start is picked up. */
    private synchronized void loadKit() {
        if (vmm != null) {
            return;
        }
        try {
            kit = GuestKit.load(dataDir);
            accelerator = AcceleratorProbe.choose(dataDir, kit);
            qemu = new QemuVmm(dataDir, kit, accelerator.accelerator(), BOOT_TIMEOUT,
                    network == null ? NicSource.NONE : network).convertingPausedSnapshots();
            try {
                qemu.startPoolFromEnvironment();
            } catch (IllegalArgumentException e) {
                log.warn("no pre-started QEMUs: {}", e.getMessage());
            }
            vmm = qemu;
            kitProblem = null;
        } catch (IOException e) {
            kitProblem = e.getMessage();
        }
    }

    @Override
    public synchronized Optional<String> problem() {
        loadKit();
        return Optional.ofNullable(kitProblem);
    }

    /** @throws DomainException UNAVAILABLE when there is no guest kit (nothing is provisioned then) */
    private synchronized Vmm vmm() {
        loadKit();
        if (vmm == null) {
            throw DomainException.unavailable("no host with capacity: " + kitProblem);
        }
        return vmm;
    }

    @Override
    public synchronized List<String> images() {
        return kit == null ? List.of() : kit.images().keySet().stream().sorted().toList();
    }

    @Override
    public synchronized java.util.OptionalLong imageMib(String image) {
        if (qemu != null && qemu.builtImages().file(image) != null) {
            try {
                return java.util.OptionalLong.of(qemu.imageMib(image));
            } catch (IOException e) {
                return java.util.OptionalLong.empty();
            }
        }
        if (kit == null || !kit.images().containsKey(image)) {
            return java.util.OptionalLong.empty();
        }
        try {
            return java.util.OptionalLong.of((java.nio.file.Files.size(kit.image(image)) + (1 << 20) - 1) >> 20);
        } catch (IOException e) {
            return java.util.OptionalLong.empty();
        }
    }

    @Override
    public synchronized boolean hasDesktop(String image) {
        return kit != null && kit.images().containsKey(image) && kit.info(image).desktop();
    }

    @Override
    public synchronized List<RootfsData.Entry> imageEntries() {
        return images().stream().map(name -> {
            GuestKit.ImageInfo info = kit.info(name);
            return new RootfsData.Entry(name, info.description(), info.deprecated() ? Boolean.TRUE : null,
                    info.successor());
        }).toList();
    }

    @Override
    public Optional<DiskSpace> diskSpace() {
        try {
            var store = java.nio.file.Files.getFileStore(dataDir);
            return Optional.of(new DiskSpace(store.getUsableSpace() >> 20, store.getTotalSpace() >> 20));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the free space of " + dataDir, e);
        }
    }

    @Override
    public boolean hasMemoryFor(int memMib) {
        return availableMib() >= memMib + RESERVED_MIB;
    }

    /** The accelerator VMs run with and why; empty until there is a guest kit to probe with. */
    private synchronized Optional<AcceleratorChoice> acceleratorChoice() {
        loadKit();
        return Optional.ofNullable(accelerator);
    }

    @Override
    public HostPublic view() {
        List<String> images = images();
        Optional<AcceleratorChoice> accel = acceleratorChoice();
        return new HostPublic(ID, problem().isEmpty() ? "active" : "dead", availableMib(), live.size(),
                images.isEmpty() ? null : images, accel.map(a -> a.accelerator().name().toLowerCase()).orElse(null),
                accel.map(AcceleratorChoice::reason).orElse(null));
    }

    // --- VMs ---

    @Override
    public Started create(String sandboxId, VmShape shape) throws IOException {
        Vm vm = vmm().boot(spec(sandboxId, shape));
        hold(sandboxId, vm);
        return started(vm.start());
    }

    @Override
    public SnapshotRef pause(String sandboxId) throws IOException {
        Vm vm = held(sandboxId);
        stopping.add(sandboxId);
        try {
            PausedVm paused = vm.pause();
            release(sandboxId);
            SnapshotRef ref = ref(sandboxId, paused);
            pausedHere.put(sandboxId, ref);
            return ref;
        } catch (IOException | RuntimeException e) {
            if (!vm.isAlive()) {
                release(sandboxId);
                vm.close();
            }
            throw e;
        } finally {
            stopping.remove(sandboxId);
        }
    }

    @Override
    public Started resume(String sandboxId) throws IOException {
        PausedVm paused = pausedVm(sandboxId);
        Vm vm = restoring(() -> vmm().resume(paused));
        foundPaused.remove(sandboxId);
        pausedHere.remove(sandboxId);
        hold(sandboxId, vm);
        return started(vm.start());
    }

    @Override
    public Started fork(String sourceId, String childId, VmShape child) throws IOException {
        Vm vm = restoring(() -> vmm().fork(pausedVm(sourceId), spec(childId, child)));
        hold(childId, vm);
        return started(vm.start());
    }

    private interface Restore {
        Vm run() throws IOException;
    }

    /** A snapshot of another CPU is the domain's conflict (it crosses a host daemon's wire as its code). */
    private static Vm restoring(Restore restore) throws IOException {
        try {
            return restore.run();
        } catch (SnapshotIncompatibleException e) {
            throw new DomainException(ErrorCode.SNAPSHOT_INCOMPATIBLE, e.getMessage(), e);
        }
    }

    @Override
    public Optional<SnapshotRef> snapshot(String sandboxId) throws IOException {
        PausedVm paused = foundPaused.get(sandboxId);
        if (paused == null) {
            paused = vmm().findPaused(vmId(sandboxId)).orElse(null);
        }
        return Optional.ofNullable(paused).map(p -> ref(sandboxId, p));
    }

    @Override
    public boolean isRunning(String sandboxId) {
        Vm vm = live.get(sandboxId);
        return vm != null && vm.isAlive();
    }

    @Override
    public void resize(String sandboxId, int diskMib) throws IOException {
        // Through agent(): a relayed VM's own client is closed, the multiplexer's session is not.
        held(sandboxId).resizeDisk(diskMib, agent(sandboxId));
    }

    @Override
    public void destroyVm(String sandboxId) throws IOException {
        stopping.add(sandboxId);
        relayLocks.remove(sandboxId); // no relay of it from now on
        try {
            Vm vm = release(sandboxId);
            if (vm == null) {
                vm = found.remove(sandboxId);
            }
            if (vm == null) {
                vm = exitedVms.remove(sandboxId);
            }
            if (vm == null && problem().isEmpty()) {
                try {
                    vm = vmm().attach(vmId(sandboxId)).orElse(null);
                } catch (IOException e) {
                    // Its VMM or agent does not answer: no reason to keep it (forceDestroy below kills it).
                    log.warn("sandbox {}: its VM does not answer, killing it: {}", sandboxId, e.getMessage());
                }
            }
            if (vm != null) {
                try {
                    vm.destroy();
                } catch (IOException | RuntimeException e) {
                    log.warn("sandbox {}: destroying its VM failed, killing it: {}", sandboxId, e.getMessage());
                }
            }
            // Whatever a crash mid-destroy or a VMM that would not quit left (issue 18): the VMM killed, the files gone.
            if (problem().isEmpty()) {
                vmm().forceDestroy(vmId(sandboxId));
            }
        } finally {
            stopping.remove(sandboxId);
        }
    }

    @Override
    public void destroySnapshot(String sandboxId) throws IOException {
        PausedVm paused = foundPaused.remove(sandboxId);
        pausedHere.remove(sandboxId);
        if (paused == null && problem().isEmpty()) {
            paused = vmm().findPaused(vmId(sandboxId)).orElse(null);
        }
        if (paused != null) {
            paused.destroy();
        }
    }

    @Override
    public void discard(String sandboxId) throws IOException {
        vmm().discard(vmId(sandboxId));
    }

    @Override
    public AgentClient agent(String sandboxId) {
        AgentMultiplexer mux = relayed.get(sandboxId);
        if (mux == null && !handedOver.contains(sandboxId)) {
            return held(sandboxId).agent();
        }
        if (mux == null || !mux.isOpen()) {
            // The relay failed to open, or its connection ended: the VM's own client is closed, so open it again.
            try {
                mux = agentMultiplexer(sandboxId);
            } catch (IOException e) {
                throw new IllegalStateException("the agent of sandbox " + sandboxId + " cannot be reached: "
                        + e.getMessage(), e);
            }
        }
        AgentMultiplexer shared = mux;
        // Relayed: this process is one more session on the shared connection.
        return ownOnRelay.compute(sandboxId, (id, client) -> {
            if (client != null && client.isOpen()) {
                return client;
            }
            try {
                return shared.client();
            } catch (IOException e) {
                throw new IllegalStateException("the agent of sandbox " + id + " cannot be reached: " + e.getMessage(), e);
            }
        });
    }

    /**
     * For a host daemon: the running VM's agent connection as a multiplexer that control planes' relayed calls
     * join as sessions (the agent serves one connection; each caller's HELLO starts a session of its own). On the
     * first call this process's own client is closed and self-signals become the callers' to watch; {@link #agent}
     * goes through the multiplexer from then on, until the VM is paused, destroyed or gone.
     */
    public AgentMultiplexer agentMultiplexer(String sandboxId) throws IOException {
        // Per sandbox, not this object's lock: a guest slow to answer HELLO must not hold up the engine's calls.
        synchronized (relayLocks.computeIfAbsent(sandboxId, id -> new Object())) {
            AgentMultiplexer current = relayed.get(sandboxId);
            if (current != null && current.isOpen()) {
                return current;
            }
            Vm vm = held(sandboxId);
            SelfSignalWatch watch = watches.remove(sandboxId);
            if (watch != null) {
                watch.close();
            }
            handedOver.add(sandboxId);
            vm.agent().close();
            SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(vm.dir().resolve("agent.sock")));
            AgentMultiplexer mux = AgentMultiplexer.open("sandbox " + sandboxId, Channels.newInputStream(channel),
                    Channels.newOutputStream(channel), channel, RELAY_HELLO_TIMEOUT);
            relayed.put(sandboxId, mux);
            return mux;
        }
    }

    /** Ends the sandbox's relayed connection, if it has one: its callers reconnect (to a resumed VM, or fail). */
    private void endRelay(String sandboxId) {
        handedOver.remove(sandboxId);
        AgentClient own = ownOnRelay.remove(sandboxId);
        if (own != null) {
            own.close();
        }
        AgentMultiplexer mux = relayed.remove(sandboxId);
        if (mux != null) {
            mux.close();
        }
    }

    private Vm held(String sandboxId) {
        Vm vm = live.get(sandboxId);
        if (vm == null) {
            throw new IllegalStateException("this host holds no running VM of sandbox " + sandboxId);
        }
        return vm;
    }

    private PausedVm pausedVm(String sandboxId) throws IOException {
        PausedVm paused = foundPaused.get(sandboxId);
        if (paused != null) {
            return paused;
        }
        return vmm().findPaused(vmId(sandboxId)).orElseThrow(() -> new IOException("sandbox " + sandboxId
                + " has no complete snapshot on host " + ID));
    }

    /** Holds the VM: reachable through {@link #agent}, watched for its exit and its self-signals. */
    private void hold(String sandboxId, Vm vm) {
        endRelay(sandboxId);
        live.put(sandboxId, vm);
        vm.onExit(how -> exited(sandboxId, vm, how));
        try {
            SelfSignalWatch watch = vm.agent().watch(signal -> emit(new HostEvent.SelfSignalled(sandboxId,
                    signal.action(), signal.reason())));
            SelfSignalWatch previous = watches.put(sandboxId, watch);
            if (previous != null) {
                previous.close();
            }
        } catch (IOException e) {
            // Signals stay queued in the agent; the next hold (a restart, a resume) delivers them.
            log.warn("cannot watch self-signals of sandbox {}: {}", sandboxId, e.getMessage());
        }
    }

    /** Stops holding the VM (it may run on); returns it. */
    private Vm release(String sandboxId) {
        endRelay(sandboxId);
        SelfSignalWatch watch = watches.remove(sandboxId);
        if (watch != null) {
            watch.close();
        }
        return live.remove(sandboxId);
    }

    /** Process liveness, for a VMM that died without a word on its control socket (kill -9 closes it too). */
    private void watchExits() {
        while (!closed) {
            live.forEach((sandboxId, vm) -> {
                if (!vm.isAlive()) {
                    exited(sandboxId, vm, "its VM exited unexpectedly (VMM process " + vm.pid() + " is gone)");
                }
            });
            try {
                Thread.sleep(WATCH_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The held VM ended (QMP SHUTDOWN, QMP socket closed, process gone) and it was not us: report it, once. */
    private void exited(String sandboxId, Vm vm, String how) {
        if (stopping.contains(sandboxId) || !live.remove(sandboxId, vm)) {
            return;
        }
        endRelay(sandboxId);
        SelfSignalWatch watch = watches.remove(sandboxId);
        if (watch != null) {
            watch.close();
        }
        vm.close();
        exitedVms.put(sandboxId, vm); // its remains go with destroyVm, without attaching to a dying VMM
        String reason = how.startsWith("its VM") ? how : "its VM exited unexpectedly: " + how;
        log.warn("sandbox {}: {}", sandboxId, reason);
        emit(new HostEvent.VmExited(sandboxId, reason));
    }

    private void emit(HostEvent event) {
        for (Consumer<HostEvent> listener : listeners) {
            Thread.ofVirtual().name("host-event-" + event.sandboxId()).start(() -> {
                try {
                    listener.accept(event);
                } catch (RuntimeException e) {
                    log.warn("handling {} failed: {}", event, e.toString());
                }
            });
        }
    }

    @Override
    public void onEvent(Consumer<HostEvent> listener) {
        listeners.add(listener);
    }

    // --- recovery ---

    /**
     * The first call scans the VM directories (and settles what a crashed process left half-done); later calls, from
     * a control plane that restarted while this process (a host daemon) kept its VMs, answer from what it holds:
     * a second scan would try to re-attach to VMs whose agent connection this process already holds.
     */
    @Override
    public synchronized Inventory inventory() throws IOException {
        if (scanned) {
            Set<String> running = new java.util.HashSet<>(live.keySet());
            found.forEach((id, vm) -> {
                if (vm.isAlive()) {
                    running.add(id);
                }
            });
            Map<String, SnapshotRef> paused = new HashMap<>();
            foundPaused.forEach((id, p) -> paused.put(id, ref(id, p)));
            pausedHere.forEach(paused::putIfAbsent);
            return new Inventory(running, paused);
        }
        scanned = true;
        found.clear();
        foundPaused.clear();
        for (Vm vm : vmm().attachAll()) {
            String sandboxId = sandboxIdOf(vm.id());
            if (sandboxId == null) {
                vm.close(); // not a sandbox's (a template's builder): not ours to decide
            } else if (live.containsKey(sandboxId)) {
                vm.close();
            } else {
                found.put(sandboxId, vm);
            }
        }
        for (PausedVm p : vmm().pausedAll()) {
            String sandboxId = sandboxIdOf(p.id());
            if (sandboxId != null) {
                foundPaused.put(sandboxId, p);
            }
        }
        Set<String> running = found.entrySet().stream().filter(e -> e.getValue().isAlive()).map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        running.addAll(live.keySet());
        Map<String, SnapshotRef> paused = new HashMap<>();
        foundPaused.forEach((id, p) -> paused.put(id, ref(id, p)));
        return new Inventory(running, paused);
    }

    @Override
    public void adopt(String sandboxId) {
        Vm vm = found.remove(sandboxId);
        if (vm != null) {
            hold(sandboxId, vm);
        }
    }

    @Override
    public void detachAll() {
        closed = true;
        exitWatch.interrupt();
        for (String sandboxId : List.copyOf(live.keySet())) {
            Vm vm = release(sandboxId);
            if (vm != null) {
                vm.close();
            }
        }
        found.values().forEach(Vm::close);
        found.clear();
        QemuVmm engine = qemu;
        if (engine != null) {
            engine.stopConvertingPausedSnapshots(); // its QEMU is no sandbox's either
            engine.closePool(); // pre-started QEMUs are no sandbox's: they end with the server
        }
        if (network != null) {
            network.close();
        }
    }

    // --- network ---

    @Override
    public boolean hasNetwork() {
        return network != null;
    }

    @Override
    public String networkProblem() {
        return networkProblem;
    }

    private HostNetwork net() {
        if (network == null) {
            throw DomainException.unavailable("host networking is not available: " + networkProblem);
        }
        return network;
    }

    @Override
    public String lease(String sandboxId, String name, List<String> egress, long quotaBytes) throws IOException {
        if (network == null) {
            return null;
        }
        return network.acquire(vmId(sandboxId), new SandboxIdentity(sandboxId, name), EgressPolicy.of(egress),
                quotaBytes).address();
    }

    @Override
    public boolean hasLease(String sandboxId) {
        return network != null && network.lease(vmId(sandboxId)).isPresent();
    }

    @Override
    public void releaseLease(String sandboxId) throws IOException {
        capped.remove(sandboxId);
        if (hasLease(sandboxId)) {
            network.release(vmId(sandboxId));
        }
    }

    @Override
    public void reconcileLeases(Collection<String> keep) throws IOException {
        if (network != null) {
            network.reconcile(keep.stream().map(LocalHost::vmId).collect(Collectors.toSet()));
        }
    }

    @Override
    public void setEgress(String sandboxId, List<String> rules) throws IOException {
        net().setEgress(vmId(sandboxId), EgressPolicy.of(rules));
    }

    @Override
    public void setDiskEndpoints(String sandboxId, java.util.Collection<java.net.InetSocketAddress> endpoints)
            throws IOException {
        net().setDiskEndpoints(vmId(sandboxId), endpoints);
    }

    @Override
    public Traffic traffic(String sandboxId) throws IOException {
        return noted(sandboxId, net().bandwidth(vmId(sandboxId)));
    }

    @Override
    public Traffic recharge(String sandboxId, long addBytes) throws IOException {
        return noted(sandboxId, net().recharge(vmId(sandboxId), addBytes));
    }

    @Override
    public Map<String, Traffic> traffic() throws IOException {
        if (network == null) {
            return Map.of();
        }
        Map<String, Bandwidth> byVm = network.bandwidths();
        Map<String, Traffic> bySandbox = new HashMap<>();
        for (SandboxLease lease : network.leases()) {
            Bandwidth b = byVm.get(lease.vmId());
            if (b != null) {
                String sandboxId = lease.identity().sandboxId();
                bySandbox.put(sandboxId, noted(sandboxId, b));
            }
        }
        return bySandbox;
    }

    /** The counters as a value; a read that first sees the cap reports {@link HostEvent.QuotaReached}. */
    private Traffic noted(String sandboxId, Bandwidth b) {
        if (!b.capped()) {
            capped.remove(sandboxId);
        } else if (capped.add(sandboxId)) {
            emit(new HostEvent.QuotaReached(sandboxId));
        }
        return new Traffic(b.quotaBytes(), b.usedBytes(), b.ingressBytes(), b.capped());
    }

    @Override
    public boolean hasPrivateNetwork(String networkId) {
        return network != null && network.network(networkId).isPresent();
    }

    @Override
    public String createPrivateNetwork(String networkId, String name) throws IOException {
        return net().createNetwork(networkId, name).cidr();
    }

    @Override
    public void deletePrivateNetwork(String networkId) throws IOException {
        net().deleteNetwork(networkId);
    }

    @Override
    public String join(String networkId, String sandboxId) throws IOException {
        return net().attach(networkId, vmId(sandboxId));
    }

    @Override
    public void leave(String networkId, String sandboxId) throws IOException {
        net().detach(networkId, vmId(sandboxId));
    }

    @Override
    public void configureGuest(String sandboxId) throws IOException {
        net().configureGuest(vmId(sandboxId), agent(sandboxId));
    }

    /** The guest side of the sandbox's network lease, empty without one (a host daemon's callers apply it). */
    public Optional<GuestNetwork> guestNetwork(String sandboxId) {
        return net().guestNetwork(vmId(sandboxId));
    }

    /** Sets where other machines send this one's overlay traffic (an IPv4 address of this machine). */
    public LocalHost useOverlayAddress(String address) {
        if (address != null && !sh.createos.sandbox.host.net.Ipv4Cidr.isAddress(address)) {
            throw new IllegalArgumentException("an overlay address is an IPv4 address, not '" + address + "'");
        }
        overlayAddress = address;
        return this;
    }

    @Override
    public Optional<String> overlayAddress() {
        return Optional.ofNullable(overlayAddress);
    }

    @Override
    public void setRemoteMembers(String networkId, String name, String cidr,
            List<sh.createos.sandbox.host.net.RemoteMember> remote) throws IOException {
        HostNetwork net = net();
        if (net.network(networkId).isEmpty()) {
            net.createNetwork(networkId, name, cidr);
        }
        net.setRemoteMembers(networkId, remote, overlayAddress);
    }

    // --- built images ---

    @Override
    public long saveImage(String sandboxId, String image) throws IOException {
        vmm();
        return qemu.exportImage(pausedVm(sandboxId), image);
    }

    @Override
    public sh.createos.sandbox.host.vmm.OciImages.Pulled pullImage(String reference, boolean plainHttp,
            java.time.Duration timeout, long maxBytes, java.util.function.Consumer<String> log) throws IOException {
        vmm();
        return qemu.ociImages().pull(reference, plainHttp, timeout, maxBytes, log);
    }

    @Override
    public String imageIdentity(String image) {
        vmm();
        try {
            Path file = qemu.image(image);
            return file + " " + Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read image " + image, e);
        }
    }

    @Override
    public synchronized boolean hasBuiltImage(String image) {
        loadKit();
        return qemu != null && qemu.builtImages().file(image) != null;
    }

    @Override
    public void retireImage(String image) throws IOException {
        vmm();
        qemu.retireImage(image);
    }

    @Override
    public void sweepImages() throws IOException {
        vmm();
        qemu.sweepImages();
    }

    // --- ids and values ---

    /** VM ids name directories: lower-case, no '_'. */
    static String vmId(String sandboxId) {
        return sandboxId.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The sandbox a VM directory belongs to ({@code sb-01h…} → {@code sb_01H…}), or null for one of no sandbox. */
    static String sandboxIdOf(String vmId) {
        return vmId.startsWith("sb-") ? "sb_" + vmId.substring(3).toUpperCase(Locale.ROOT) : null;
    }

    private static VmSpec spec(String sandboxId, VmShape shape) {
        return new VmSpec(vmId(sandboxId), shape.image(), shape.vcpus(), shape.memMib(), shape.diskMib(),
                shape.hostname());
    }

    private static Started started(VmStart start) {
        return new Started(start.kind().name().toLowerCase(Locale.ROOT), start.took().toMillis());
    }

    private static SnapshotRef ref(String sandboxId, PausedVm paused) {
        return new SnapshotRef(sandboxId, ID, paused.pausedAt(), paused.snapshotBytes());
    }

    /** MemAvailable of /proc/meminfo in MiB. */
    static long availableMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot read MemAvailable from /proc/meminfo", e);
        }
        throw new IllegalStateException("/proc/meminfo has no MemAvailable line");
    }
}
