package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.Inventory;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Brings the rows and a host's VMs back in line when the control plane starts. The host first settles what a crash
 * left half done on its side ({@link Host#inventory}: a half-done pause is cancelled and the VM runs on, a half-done
 * resume is undone and the VM stays paused); then every row of that host that was in the middle of something is
 * finished or rolled back to what the host actually holds.
 *
 * <p>Each row is claimed first ({@link Store#claim}): of several control-plane replicas reconciling at once, exactly
 * one acts on a row; the others leave it alone (and its VM or snapshot, which is not an orphan then).
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final Set<SandboxStatus> TO_CHECK = EnumSet.of(SandboxStatus.CREATING, SandboxStatus.RUNNING,
            SandboxStatus.PAUSING, SandboxStatus.PAUSED, SandboxStatus.RESUMING, SandboxStatus.FORKING,
            SandboxStatus.DESTROYING);
    /** The statuses of an operation in flight: a row left in one by a killed replica is swept. */
    static final Set<SandboxStatus> IN_FLIGHT = EnumSet.of(SandboxStatus.CREATING, SandboxStatus.PAUSING,
            SandboxStatus.RESUMING, SandboxStatus.FORKING, SandboxStatus.DESTROYING);

    private final Store store;
    private final Host host;
    private final SandboxStateMachine states;
    private final RowClaims claims;

    Reconciler(Store store, Host host, SandboxStateMachine states, RowClaims claims) {
        this.store = store;
        this.host = host;
        this.states = states;
        this.claims = claims;
    }

    /**
     * Re-attach to the VMs that survived the last process, finish or roll back what it left half-done, fail the rows
     * whose VM is gone, and remove VMs and snapshots that no live row owns (an {@code error} row's are removed too:
     * it can only be destroyed).
     */
    void run() throws IOException {
        if (host.problem().isPresent()) {
            log.warn("no guest kit, not reconciling VMs: {}", host.problem().get());
            return;
        }
        Inventory inventory = host.inventory();
        Set<String> vms = new HashSet<>(inventory.running());
        Map<String, SnapshotRef> snapshots = new HashMap<>(inventory.paused());
        Set<String> owned = new HashSet<>();
        for (SandboxRecord row : store.sandboxesIn(TO_CHECK)) {
            if (row.hostId() != null && !host.owns(row.hostId())) {
                continue; // another host's
            }
            owned.add(row.id());
            if (row.hostId() != null && !inventory.covers(row.hostId())) {
                log.warn("sandbox {} stays {}: its host {} does not answer", row.id(), row.status().wire(),
                        row.hostId());
                continue;
            }
            RowClaims.Hold hold = claims.tryHold(row.id());
            if (hold == null) {
                log.info("sandbox {} is claimed by another replica (acting on it, or reconciling it)", row.id());
                continue;
            }
            try (hold) {
                // Re-read under the claim: another replica may have finished it before we got here.
                SandboxRecord current = store.sandbox(row.id()).orElse(row);
                if (TO_CHECK.contains(current.status())) {
                    reconcile(current, vms.contains(row.id()), snapshots.get(row.id()));
                }
            }
        }
        for (String orphan : vms) {
            if (!owned.contains(orphan)) {
                log.warn("destroying the VM of {} that no live sandbox owns", orphan);
                destroyVm(orphan);
            }
        }
        for (String orphan : snapshots.keySet()) {
            if (!owned.contains(orphan)) {
                log.warn("removing the snapshot of {} that no live sandbox owns", orphan);
                destroySnapshot(orphan);
            }
        }
        log.info("reconciled: {} VMs attached", host.view().vmCount());
    }

    /**
     * While serving, again and again: every row a killed replica left in flight (its claim lapsed, see
     * {@link RowClaims}) is finished or rolled back to what its host holds now. The host is asked about that one
     * sandbox (a host daemon answers once an operation it is still running on it is done), never a whole
     * inventory, and nothing is treated as an orphan: live replicas' operations are under way everywhere.
     *
     * @return the ids of the rows settled
     */
    java.util.List<String> sweep() {
        java.util.List<String> settled = new java.util.ArrayList<>();
        if (host.problem().isPresent()) {
            return settled;
        }
        for (SandboxRecord row : store.sandboxesIn(IN_FLIGHT)) {
            if (row.hostId() != null && !host.owns(row.hostId())) {
                continue; // another host's
            }
            RowClaims.Hold hold = claims.takeLapsed(row.id());
            if (hold == null) {
                continue; // a live operation's, or nobody's yet
            }
            try (hold) {
                SandboxRecord current = store.sandbox(row.id()).orElse(row);
                if (!IN_FLIGHT.contains(current.status())) {
                    continue;
                }
                boolean alive;
                SnapshotRef snapshot;
                try {
                    alive = host.isRunning(row.id());
                    snapshot = host.snapshot(row.id()).orElse(null);
                } catch (IOException | RuntimeException e) {
                    log.warn("sandbox {} stays {} for now: its host does not answer: {}", row.id(),
                            current.status().wire(), e.getMessage());
                    claims.abandon(row.id());
                    continue;
                }
                log.warn("sandbox {} was left {} by a replica that stopped; settling it (VM {}, snapshot {})",
                        row.id(), current.status().wire(), alive ? "running" : "gone",
                        snapshot == null ? "none" : "complete");
                reconcile(current, alive, snapshot);
                settled.add(row.id());
            } catch (RuntimeException e) {
                log.error("settling sandbox {} failed; a later sweep retries", row.id(), e);
                claims.abandon(row.id());
            }
        }
        return settled;
    }

    /** {@code alive}: the host holds a running VM of the row; {@code snapshot}: its complete snapshot, if any. */
    void reconcile(SandboxRecord row, boolean alive, SnapshotRef snapshot) {
        switch (row.status()) {
            case CREATING -> {
                // Its client got an error when we stopped: fail the row first, then drop the VM (a crash in
                // between leaves an orphan VM, which the next start destroys).
                states.transition(row, SandboxStatus.FAILED,
                        r -> r.withFailure("the control plane stopped while the sandbox was booting"));
                drop(row, true, snapshot);
                discardUnfinished(row);
            }
            case DESTROYING -> {
                drop(row, true, snapshot);
                store.inTransaction(() -> {
                    store.deleteMemberships(row.id());
                    states.transition(row, SandboxStatus.DESTROYED);
                });
            }
            case RUNNING -> {
                if (alive) {
                    host.adopt(row.id());
                } else {
                    states.transition(row, SandboxStatus.FAILED, r -> r.withFailure("its VM is gone"));
                    drop(row, true, snapshot);
                }
            }
            case PAUSING -> {
                if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED, r -> r.withPausedAt(millis(snapshot.pausedAt())));
                    drop(row, alive, null);
                } else if (alive) {
                    host.adopt(row.id());
                    states.transition(row, SandboxStatus.RUNNING);
                } else {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM died while pausing"));
                }
            }
            case RESUMING -> {
                if (alive) {
                    host.adopt(row.id());
                    states.transition(row, SandboxStatus.RUNNING,
                            r -> r.withResumed(row.spawnMs(), SandboxService.now()));
                    drop(row, false, snapshot);
                } else if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED);
                } else {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM died while resuming"));
                }
            }
            case FORKING -> {
                if (alive) {
                    host.adopt(row.id());
                    states.transition(row, SandboxStatus.RUNNING,
                            r -> r.withRunning(null, host.hostOf(row.id()), null, SandboxService.now()));
                    drop(row, false, snapshot);
                } else if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED, r -> r.withPausedAt(millis(snapshot.pausedAt())));
                } else {
                    states.transition(row, SandboxStatus.FAILED,
                            r -> r.withFailure("the control plane stopped while the sandbox was forking"));
                    drop(row, true, null);
                    discardUnfinished(row);
                }
            }
            case PAUSED -> {
                if (snapshot == null) {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its snapshot is gone"));
                }
                drop(row, alive, null);
            }
            default -> throw new IllegalStateException("not a status to reconcile: " + row.status());
        }
    }

    /** What a boot or fork that never came up left (this host is the only one that starts this row's VM). */
    private void discardUnfinished(SandboxRecord row) {
        try {
            host.discard(row.id());
        } catch (IOException | RuntimeException e) {
            log.error("removing what the unfinished start of sandbox {} left failed", row.id(), e);
        }
    }

    private void drop(SandboxRecord row, boolean vm, SnapshotRef snapshot) {
        if (vm) {
            destroyVm(row.id());
        }
        if (snapshot != null) {
            destroySnapshot(row.id());
        }
    }

    private void destroyVm(String sandboxId) {
        try {
            host.destroyVm(sandboxId);
        } catch (IOException | RuntimeException e) {
            log.error("destroying the VM of sandbox {} failed", sandboxId, e);
        }
    }

    private void destroySnapshot(String sandboxId) {
        try {
            host.destroySnapshot(sandboxId);
        } catch (IOException | RuntimeException e) {
            log.error("removing the snapshot of sandbox {} failed", sandboxId, e);
        }
    }

    private static Instant millis(Instant at) {
        return at.truncatedTo(ChronoUnit.MILLIS);
    }
}
