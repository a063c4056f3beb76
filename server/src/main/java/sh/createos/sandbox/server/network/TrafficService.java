package sh.createos.sandbox.server.network;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.model.EgressView;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.sandbox.CreateRequests;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxStateMachine;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * A sandbox's egress allowlist and bandwidth (spec §9.1-9.4): the row holds what was asked (rules, quota), the
 * host's lease enforces it and counts the bytes. A sandbox without a lease (no host networking) has no traffic.
 */
public final class TrafficService {
    private final Store store;
    private final SandboxService sandboxes;
    private final SandboxStateMachine states;
    private final Host host;

    public TrafficService(Store store, SandboxService sandboxes, Host host) {
        this.store = store;
        this.sandboxes = sandboxes;
        this.states = new SandboxStateMachine(store);
        this.host = host;
    }

    public EgressView egress(User user, String id) {
        SandboxRecord sandbox = sandboxes.get(user, id);
        return new EgressView(sandbox.id(), sandbox.egress());
    }

    /**
     * Atomic replace on a running sandbox: the row first, then the host's rules in one transaction; if the host
     * refuses, the row goes back.
     */
    public EgressView setEgress(User user, String id, List<String> rules) throws IOException {
        SandboxRecord sandbox = sandboxes.get(user, id);
        List<String> kept = CreateRequests.checkEgress(rules);
        SandboxRecord updated = states.update(sandbox, SandboxStatus.RUNNING, s -> s.withEgress(kept));
        if (host.hasLease(sandbox.id())) {
            try {
                host.setEgress(sandbox.id(), kept);
            } catch (IOException | RuntimeException e) {
                states.update(updated, SandboxStatus.RUNNING, s -> s.withEgress(sandbox.egress()));
                throw e;
            }
        }
        return new EgressView(updated.id(), updated.egress());
    }

    public BandwidthView bandwidth(User user, String id) throws IOException {
        SandboxRecord sandbox = sandboxes.get(user, id);
        return view(sandbox, current(sandbox));
    }

    /** Spec order: 404 for another user's sandbox first, then 400 for a bad amount; unmetered stays unmetered. */
    public BandwidthView recharge(User user, String id, Long addBytes) throws IOException {
        SandboxRecord sandbox = sandboxes.get(user, id);
        if (addBytes == null || addBytes <= 0) {
            throw DomainException.invalid("add_bytes must be a positive number of bytes");
        }
        if (sandbox.status() != SandboxStatus.RUNNING) { // spec §14.1: a paused sandbox allows only reads, resume, fork, destroy
            throw DomainException.invalidState("sandbox " + id + " is " + sandbox.status().wire()
                    + "; only a running sandbox can be recharged" + (sandbox.status() == SandboxStatus.PAUSED
                            ? " (resume it first)" : ""));
        }
        if (sandbox.bandwidthQuotaBytes() == Traffic.UNMETERED) {
            return view(sandbox, current(sandbox));
        }
        long quota;
        try {
            quota = Math.addExact(sandbox.bandwidthQuotaBytes(), addBytes);
        } catch (ArithmeticException e) {
            throw DomainException.invalid("add_bytes " + addBytes + " would overflow the quota");
        }
        long newQuota = quota;
        SandboxRecord updated = states.update(sandbox, sandbox.status(), s -> s.withBandwidthQuotaBytes(newQuota));
        if (host.hasLease(sandbox.id())) {
            try {
                return view(updated, host.recharge(sandbox.id(), addBytes));
            } catch (IOException | RuntimeException e) {
                states.update(updated, updated.status(), s -> s.withBandwidthQuotaBytes(sandbox.bandwidthQuotaBytes()));
                throw e;
            }
        }
        return view(updated, current(updated));
    }

    /**
     * Bytes that came in so far, for {@code SandboxView.bandwidth_ingress_bytes}, of those of {@code sandboxIds}
     * that have a lease: one read of the host's counters for all of them.
     */
    public Map<String, Long> ingressBytes(Collection<String> sandboxIds) {
        if (!host.hasNetwork() || sandboxIds.isEmpty()) {
            return Map.of();
        }
        Map<String, Traffic> bySandbox;
        try {
            bySandbox = host.traffic();
        } catch (IOException e) {
            return Map.of(); // an optional field: left out rather than failing the read
        }
        Map<String, Long> bytes = new HashMap<>();
        for (String id : sandboxIds) {
            Traffic b = bySandbox.get(id);
            if (b != null) {
                bytes.put(id, b.ingressBytes());
            }
        }
        return bytes;
    }

    private Traffic current(SandboxRecord sandbox) throws IOException {
        if (host.hasLease(sandbox.id())) {
            return host.traffic(sandbox.id());
        }
        return new Traffic(sandbox.bandwidthQuotaBytes(), 0, 0, false);
    }

    private static BandwidthView view(SandboxRecord sandbox, Traffic b) {
        return new BandwidthView(sandbox.id(), b.quotaBytes(), b.usedBytes(), b.ingressBytes(), b.remainingBytes(),
                b.capped());
    }
}
