package sh.createos.sandbox.server.host;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.HostPublic;

/**
 * One machine that runs sandboxes, as the control plane sees it: value-typed operations keyed by sandbox id. The
 * control plane decides (rows, states, ownership); a host only does. {@link LocalHost} is this machine in-process;
 * a remote host daemon serves the same operations over the network.
 *
 * <p>Engine operations leave nothing half-done on failure (see each); an {@link IOException} names what failed.
 */
public interface Host {
    /** The host's id ({@code host_id} of a sandbox row). */
    String id();

    /** Why no VM can start here (no guest kit…), or empty when the host is usable. */
    Optional<String> problem();

    /** The guest images it can boot. */
    List<String> images();

    /** The catalog entry of each image it can boot (description, deprecation), by name. */
    default List<sh.createos.sandbox.model.RootfsData.Entry> imageEntries() {
        return images().stream().map(name -> new sh.createos.sandbox.model.RootfsData.Entry(name, null, null, null))
                .toList();
    }

    /** The size of {@code image}'s root filesystem in MiB (a disk must hold it), when the host knows it. */
    default java.util.OptionalLong imageMib(String image) {
        return java.util.OptionalLong.empty();
    }

    /** Whether {@code image} has a desktop for computer use here. */
    default boolean hasDesktop(String image) {
        return false;
    }

    /** Its placement labels (a create's {@code node_selector} must match them all); none by default. */
    default Map<String, String> labels() {
        return Map.of();
    }

    /**
     * Where a new sandbox of {@code memMib} goes, before its row exists: {@code requestedHost} (a create's
     * {@code host_id}, or null) and {@code nodeSelector} (labels that must all match, Kubernetes NodeSelector
     * semantics; null or empty for none) honoured. This one machine: the request's host, when its labels match.
     *
     * @return the host id for the row ({@code requestedHost} here)
     * @throws sh.createos.sandbox.server.DomainException INVALID when no host carries the labels, UNAVAILABLE when
     *         those that do have no room or do not answer
     */
    default String place(String sandboxId, int memMib, String requestedHost, Map<String, String> nodeSelector) {
        if (nodeSelector != null && !labels().entrySet().containsAll(nodeSelector.entrySet())) {
            throw sh.createos.sandbox.server.DomainException.invalid("no host has the labels " + nodeSelector
                    + " (node_selector)");
        }
        return requestedHost;
    }

    /** Whether a VM of {@code memMib} fits now. */
    boolean hasMemoryFor(int memMib);

    /** The disk VMs are written to, for disk admission; empty when the host does not report it. */
    default java.util.Optional<DiskSpace> diskSpace() {
        return java.util.Optional.empty();
    }

    /** Its public view, with live capacity ({@code GET /v1/hosts}). */
    HostPublic view();

    /** What VMs run with here and why, e.g. "tcg (the kit's kernel did not boot under KVM …)"; empty before a kit. */
    default Optional<String> accelerator() {
        HostPublic view = view();
        return Optional.ofNullable(view.accelerator())
                .map(a -> view.acceleratorReason() == null ? a : a + " (" + view.acceleratorReason() + ")");
    }

    /** Every machine behind this host, with live capacity ({@code GET /v1/hosts}). */
    default List<HostPublic> views() {
        return List.of(view());
    }

    /** The machine that runs (or will run) the sandbox: this one, or the member a host of hosts placed it on. */
    default String hostOf(String sandboxId) {
        return id();
    }

    /** Whether rows placed on {@code hostId} are this host's (create's {@code host_id}, reconcile, auto-pause). */
    default boolean owns(String hostId) {
        return id().equals(hostId);
    }

    // --- VMs ---

    /** Boots (or restores the image's template into) a VM; returns once its agent answered. Nothing left on failure. */
    Started create(String sandboxId, VmShape shape) throws IOException;

    /** Snapshots the running VM and ends it. On failure it runs on as before, unless its VM died ({@link #isRunning}). */
    SnapshotRef pause(String sandboxId) throws IOException;

    /** Starts the paused sandbox again from its snapshot; on failure it stays paused, unchanged. */
    Started resume(String sandboxId) throws IOException;

    /** A new VM {@code childId} from the snapshot of the paused {@code sourceId}, which stays paused and untouched. */
    Started fork(String sourceId, String childId, VmShape child) throws IOException;

    /** The sandbox's complete snapshot, if it has one here. */
    Optional<SnapshotRef> snapshot(String sandboxId) throws IOException;

    /** Whether this host holds a live VM of the sandbox. */
    boolean isRunning(String sandboxId);

    /** Grows the running VM's root disk and the guest's filesystem on it. */
    void resize(String sandboxId, int diskMib) throws IOException;

    /** Ends the sandbox's VM, if it has one (held, or found by {@link #inventory}); nothing of it is left. */
    void destroyVm(String sandboxId) throws IOException;

    /** Removes the sandbox's snapshot (and disk layers nothing else needs), if it has one. */
    void destroySnapshot(String sandboxId) throws IOException;

    /** Removes what an unfinished create or fork of the sandbox left (for a caller that knows none is under way). */
    void discard(String sandboxId) throws IOException;

    /**
     * The connected agent of the sandbox's running VM: exec, files, dial. The agent protocol is one multiplexed,
     * flow-controlled byte stream ({@code AgentClient.over(in, out)}); a remote host relays that stream.
     */
    AgentClient agent(String sandboxId);

    // --- recovery ---

    /** After the host's own recovery (half-done pauses and resumes settled): what it holds. */
    Inventory inventory() throws IOException;

    /** Takes a running VM that {@link #inventory} found into the host's care (watched, its agent reachable). */
    void adopt(String sandboxId);

    /** Lets go of every VM (they keep running for the next start to re-attach) and stops the network's helpers. */
    void detachAll();

    /** Subscribes to {@link HostEvent}s; listeners run on their own threads. */
    void onEvent(Consumer<HostEvent> listener);

    // --- network ---

    /** Whether the host runs a network data path; {@link #networkProblem} says why not. */
    boolean hasNetwork();

    String networkProblem();

    /**
     * The sandbox's place on the host network (tap, address, allowlist, quota) before its VM first starts.
     *
     * @return its address, or null without a network
     */
    String lease(String sandboxId, String name, List<String> egress, long quotaBytes) throws IOException;

    boolean hasLease(String sandboxId);

    /** Its tap, rules and addresses, and its private-network memberships on the host. */
    void releaseLease(String sandboxId) throws IOException;

    /** Every lease but those of {@code keep} goes. */
    void reconcileLeases(Collection<String> keep) throws IOException;

    void setEgress(String sandboxId, List<String> rules) throws IOException;

    Traffic traffic(String sandboxId) throws IOException;

    /** Raises the quota by {@code addBytes} and lifts the cap. */
    Traffic recharge(String sandboxId, long addBytes) throws IOException;

    /** Every leased sandbox's counters, read once. */
    Map<String, Traffic> traffic() throws IOException;

    /** Whether the private network exists on this host. */
    boolean hasPrivateNetwork(String networkId);

    /** Creates the private network here; returns its range. */
    String createPrivateNetwork(String networkId, String name) throws IOException;

    void deletePrivateNetwork(String networkId) throws IOException;

    /** Makes the sandbox a member; returns its address in the network. */
    String join(String networkId, String sandboxId) throws IOException;

    void leave(String networkId, String sandboxId) throws IOException;

    /** Sends the sandbox's current network configuration (addresses, routes, resolver) to its running guest. */
    void configureGuest(String sandboxId) throws IOException;

    /**
     * The control plane's word on a private network's whole membership ({@code ip} null for a member whose address
     * is being allocated), after every change: a host of several machines tells each machine the members on the
     * others, so that members reach each other across machines. One machine has nothing to do.
     */
    default void networkMembers(String networkId, String name, String cidr, List<NetworkMember> members)
            throws IOException {}

    /**
     * One machine: the network's members on other machines, replacing what the last call said; the network is made
     * here with range {@code cidr} if missing. A host that cannot carry an overlay says so.
     */
    default void setRemoteMembers(String networkId, String name, String cidr,
            List<sh.createos.sandbox.host.net.RemoteMember> remote) throws IOException {
        throw new IOException("host " + id() + " cannot reach private network members on other hosts");
    }

    /** Where other machines send this one's overlay traffic (its underlay address), when it has one. */
    default Optional<String> overlayAddress() {
        return Optional.empty();
    }

    /**
     * The TCP endpoints (its mounted disks' S3 endpoints, resolved) the sandbox reaches whatever its allowlist;
     * replaces the previous set. A host without this ability says so.
     */
    default void setDiskEndpoints(String sandboxId, java.util.Collection<java.net.InetSocketAddress> endpoints)
            throws IOException {
        throw new IOException("this host cannot let disk endpoints through the egress allowlist");
    }

    // --- built images (template builds) ---

    /**
     * Writes the paused sandbox's disk (its snapshot stays as it is) as a read-only image named {@code image}, which
     * {@link #create} boots by that name from then on; returns its size in bytes.
     */
    default long saveImage(String sandboxId, String image) throws IOException {
        throw new IOException("this host cannot save images (template builds run on the local host)");
    }

    /**
     * The OCI image {@code reference} ({@code registry/repo:tag} or {@code …@sha256:…}) as an image {@link #create}
     * boots, pulled on this host unless its digest was pulled before (see {@code OciImages}).
     *
     * @param plainHttp speak plain HTTP (or unverified TLS) to the registry
     * @param maxBytes  the largest image accepted (compressed layers, unpacked files)
     * @param log       progress lines for the build's log
     */
    default sh.createos.sandbox.host.vmm.OciImages.Pulled pullImage(String reference, boolean plainHttp,
            java.time.Duration timeout, long maxBytes, java.util.function.Consumer<String> log) throws IOException {
        throw new IOException("this host cannot pull images (template builds run on the local host)");
    }

    /** What identifies the content of {@code image} here (its file), for build cache keys. */
    default String imageIdentity(String image) {
        return image;
    }

    /** Whether {@code image} is a built image this host can boot. */
    default boolean hasBuiltImage(String image) {
        return false;
    }

    /**
     * Unregisters a built image: no new VM boots it. VMs and snapshots resting on it keep working; its file goes
     * once none does.
     */
    default void retireImage(String image) throws IOException {}

    /** Removes retired built images that nothing rests on any more (after destroys). */
    default void sweepImages() throws IOException {}
}
