package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.net.HostNetwork;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.host.vmm.NicSource;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.Vmm;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.lifecycle.RunningVmListener;
import sh.createos.sandbox.server.network.HostNetworking;

/**
 * This machine as the only host: its guest kit, its VMM, its network data path and the VMs this process holds.
 * Without a guest kit the server still starts (probes, catalog and reads work) and reports why it is not ready;
 * without networking (not configured, or the host cannot do it) sandboxes boot with an unconnected NIC.
 */
public final class LocalHost implements HostNetworking {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LocalHost.class);
    public static final String ID = "local";
    /** Below the SDK's 60 s client timeout, so a slow boot fails as a clear error, not a client timeout. */
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(50);
    /** Memory kept for the host itself and QEMU's own overhead per VM. */
    private static final long RESERVED_MIB = 256;

    private final Path dataDir;
    private final HostNetwork network;
    private final String networkProblem;
    private final Map<String, Vm> live = new ConcurrentHashMap<>();
    private final List<RunningVmListener> listeners = new CopyOnWriteArrayList<>();
    private GuestKit kit;
    private Vmm vmm;
    private String kitProblem;

    private LocalHost(Path dataDir, HostNetwork network, String networkProblem) {
        this.dataDir = dataDir;
        this.network = network;
        this.networkProblem = networkProblem;
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
        return host;
    }

    @Override
    public Optional<HostNetwork> network() {
        return Optional.ofNullable(network);
    }

    @Override
    public String networkProblem() {
        return networkProblem;
    }

    /** Loads the guest kit if it is not loaded yet: a setup that finishes after the start is picked up. */
    private synchronized void loadKit() {
        if (vmm != null) {
            return;
        }
        try {
            kit = GuestKit.load(dataDir);
            vmm = new QemuVmm(dataDir, kit, Accelerator.detect(), BOOT_TIMEOUT,
                    network == null ? NicSource.NONE : network);
            kitProblem = null;
        } catch (IOException e) {
            kitProblem = e.getMessage();
        }
    }

    /** Why no VM can be booted, or empty when the host is usable. */
    public synchronized Optional<String> problem() {
        loadKit();
        return Optional.ofNullable(kitProblem);
    }

    /** @throws ApiException 503 when there is no guest kit (nothing is provisioned then) */
    public synchronized Vmm vmm() {
        loadKit();
        if (vmm == null) {
            throw ApiException.unavailable("no host with capacity: " + kitProblem);
        }
        return vmm;
    }

    public synchronized List<String> images() {
        return kit == null ? List.of() : kit.images().keySet().stream().sorted().toList();
    }

    /** Whether {@code image} is one of this host's images with a desktop (computer use). */
    public synchronized boolean hasDesktop(String image) {
        return kit != null && kit.images().containsKey(image) && kit.info(image).desktop();
    }

    /** The catalog entry of every image this host can boot, by name. */
    public synchronized List<RootfsData.Entry> imageEntries() {
        return images().stream().map(name -> {
            GuestKit.ImageInfo info = kit.info(name);
            return new RootfsData.Entry(name, info.description(), info.deprecated() ? Boolean.TRUE : null,
                    info.successor());
        }).toList();
    }

    public boolean hasMemoryFor(int memMib) {
        return availableMib() >= memMib + RESERVED_MIB;
    }

    public HostPublic view() {
        List<String> images = images();
        return new HostPublic(ID, problem().isEmpty() ? "active" : "dead", availableMib(), live.size(),
                images.isEmpty() ? null : images);
    }

    public void addListener(RunningVmListener listener) {
        listeners.add(listener);
    }

    public void register(String sandboxId, Vm vm) {
        live.put(sandboxId, vm);
        listeners.forEach(l -> l.held(sandboxId, vm));
    }

    public Optional<Vm> vm(String sandboxId) {
        return Optional.ofNullable(live.get(sandboxId));
    }

    public Optional<Vm> unregister(String sandboxId) {
        Vm vm = live.remove(sandboxId);
        if (vm != null) {
            listeners.forEach(l -> l.released(sandboxId));
        }
        return Optional.ofNullable(vm);
    }

    /**
     * Detaches from every VM and stops the network's DNS forwarder; the VMs, their taps and the rules stay for the
     * next start to re-attach.
     */
    public void detachAll() {
        for (String sandboxId : List.copyOf(live.keySet())) {
            unregister(sandboxId).ifPresent(Vm::close);
        }
        if (network != null) {
            network.close();
        }
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
