package sh.createos.sandbox.host.net;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.GuestNetwork;
import sh.createos.sandbox.host.vmm.NicSource;
import sh.createos.sandbox.host.vmm.VmNic;

/**
 * One machine's sandbox networking: a tap and a /30 per sandbox, routed and NATed by the host; one nft table of its
 * own; a DNS forwarder that is every guest's resolver; private networks; egress allowlists; bandwidth quotas.
 * Default: a sandbox reaches the outside world and nothing else (not other sandboxes, not the host, not the pools).
 * Keyed by VM id. Thread-safe. See docs/host-module.md, "Networking".
 */
public final class HostNetwork implements NicSource, Closeable {
    private HostNetwork() {}

    /**
     * Enables IPv4 forwarding, (re)creates the nft table from the kept leases and networks (counters carried over),
     * removes taps of this instance that no lease holds, and starts the DNS forwarder.
     */
    public static HostNetwork open(NetworkConfig config) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public NetworkConfig config() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** The UDP/TCP port the DNS forwarder listens on (guests use {@code <gateway>:53}, redirected here). */
    public int dnsPort() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Gives VM {@code vmId} a tap, a /30, a MAC and its rules; call before {@code Vmm.boot/fork} of that id. A second
     * acquire of the same id returns the existing lease unchanged. On failure nothing is left behind.
     *
     * @param quotaBytes egress quota, {@link Bandwidth#UNMETERED} (-1) for none, usually {@link Bandwidth#DEFAULT_QUOTA}
     */
    public SandboxLease acquire(String vmId, SandboxIdentity identity, EgressPolicy egress, long quotaBytes)
            throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public Optional<SandboxLease> lease(String vmId) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** The lease whose guest holds {@code address} (its /30 address or a private network address). */
    public Optional<SandboxLease> leaseByAddress(String address) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public List<SandboxLease> leases() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Removes the tap, rules, sets, counters and network memberships of {@code vmId} and frees its addresses; a no-op
     * for an unknown id. Call after the VM is destroyed (a paused VM keeps its lease).
     */
    public void release(String vmId) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Releases every lease whose VM id is not in {@code keep} (call at start, after attaching running and paused VMs). */
    public void reconcile(Set<String> keep) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Replaces the allowlist atomically (one nft transaction); names admitted under the old list are forgotten. */
    public SandboxLease setEgress(String vmId, EgressPolicy egress) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Current counters; byte deltas between two calls also tell whether a sandbox is active. */
    public Bandwidth bandwidth(String vmId) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Raises the quota by {@code addBytes} (> 0) and lifts the cap if that leaves some; a no-op when unmetered. */
    public Bandwidth recharge(String vmId, long addBytes) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Creates private network {@code networkId} with a free /24 of the network pool.
     *
     * @throws IllegalStateException when the pool is exhausted
     */
    public PrivateNetwork createNetwork(String networkId, String name) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public Optional<PrivateNetwork> network(String networkId) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public List<PrivateNetwork> networks() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Detaches every remaining member and frees the CIDR; a no-op for an unknown id. */
    public void deleteNetwork(String networkId) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * Makes {@code vmId} a member: a stable address in the network's CIDR, reachable from the other members on every
     * port and by name. The host side is in force on return; the guest learns its new address from
     * {@link #configureGuest} (call it for a running VM; a booting or resuming one gets it anyway).
     *
     * @return the member's address
     * @throws IllegalStateException when already a member
     */
    public String attach(String networkId, String vmId) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Cuts the member off at once (established connections included) and frees its address. */
    public void detach(String networkId, String vmId) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** What the guest of {@code vmId} must have configured now (addresses, gateway, resolver). */
    public Optional<GuestNetwork> guestNetwork(String vmId) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Sends the current {@link #guestNetwork} to a running guest (after attach/detach). */
    public void configureGuest(String vmId, AgentClient agent) throws IOException {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** {@link NicSource}: the tap and guest configuration of a leased VM, empty without a lease. */
    @Override
    public Optional<VmNic> nic(String vmId) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** Stops the DNS forwarder; taps and rules stay for the next {@link #open} (VMs keep running). */
    @Override
    public void close() {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
