package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.vmm.PausedVm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Brings the rows and the VMs back in line when the control plane starts. The engine first settles what a crash
 * left half done on its side ({@code attachAll}: a half-done pause is cancelled and the VM runs on;
 * {@code pausedAll}: a half-done resume is undone and the VM stays paused); then every row that was in the middle of
 * something is finished or rolled back to what the engine actually holds.
 */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final Set<SandboxStatus> TO_CHECK = EnumSet.of(SandboxStatus.CREATING, SandboxStatus.RUNNING,
            SandboxStatus.PAUSING, SandboxStatus.PAUSED, SandboxStatus.RESUMING, SandboxStatus.FORKING,
            SandboxStatus.DESTROYING);

    private final Store store;
    private final LocalHost host;
    private final SandboxStateMachine states;
    private final Map<String, Vm> vms = new HashMap<>();
    private final Map<String, PausedVm> paused = new HashMap<>();

    Reconciler(Store store, LocalHost host, SandboxStateMachine states) {
        this.store = store;
        this.host = host;
        this.states = states;
    }

    /**
     * At start: re-attach to the VMs that survived the last process, finish or roll back what it left half-done,
     * fail the rows whose VM is gone, and remove VMs and snapshots that no live row owns (an {@code error} row's
     * are removed too: it can only be destroyed).
     */
    void run() throws IOException {
        if (host.problem().isPresent()) {
            log.warn("no guest kit, not reconciling VMs: {}", host.problem().get());
            return;
        }
        for (Vm vm : host.vmm().attachAll()) {
            vms.put(vm.id(), vm);
        }
        for (PausedVm p : host.vmm().pausedAll()) {
            paused.put(p.id(), p);
        }
        for (SandboxRecord row : store.sandboxesIn(TO_CHECK)) {
            String vmId = SandboxService.vmId(row.id());
            reconcile(row, vms.remove(vmId), paused.remove(vmId));
        }
        for (Vm orphan : vms.values()) {
            if (orphan.id().startsWith("sb-")) {
                log.warn("destroying VM {} that no live sandbox owns", orphan.id());
                SandboxService.destroyVm(orphan.id(), orphan);
            } else {
                orphan.close();
            }
        }
        for (PausedVm orphan : paused.values()) {
            if (orphan.id().startsWith("sb-")) {
                log.warn("removing the snapshot of VM {} that no live sandbox owns", orphan.id());
                SandboxSnapshots.destroy(orphan);
            }
        }
        log.info("reconciled: {} VMs attached", host.view().vmCount());
    }

    /** {@code vm}: its running VM if one is alive; {@code snapshot}: its complete snapshot if it has one. */
    private void reconcile(SandboxRecord row, Vm vm, PausedVm snapshot) {
        boolean alive = vm != null && vm.isAlive();
        switch (row.status()) {
            case CREATING -> {
                // Its client got an error when we stopped: fail the row first, then drop the VM (a crash in
                // between leaves an orphan VM, which the next start destroys).
                states.transition(row, SandboxStatus.FAILED,
                        r -> r.withFailure("the control plane stopped while the sandbox was booting"));
                drop(row, vm, snapshot);
                discardUnfinished(row);
            }
            case DESTROYING -> {
                drop(row, vm, snapshot);
                states.transition(row, SandboxStatus.DESTROYED);
            }
            case RUNNING -> {
                if (alive) {
                    host.register(row.id(), vm);
                } else {
                    states.transition(row, SandboxStatus.FAILED, r -> r.withFailure("its VM is gone"));
                    drop(row, vm, snapshot);
                }
            }
            case PAUSING -> {
                if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED,
                            r -> r.withPausedAt(snapshot.pausedAt().truncatedTo(ChronoUnit.MILLIS)));
                    drop(row, vm, null);
                } else if (alive) {
                    host.register(row.id(), vm);
                    states.transition(row, SandboxStatus.RUNNING);
                } else {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM died while pausing"));
                }
            }
            case RESUMING -> {
                if (alive) {
                    host.register(row.id(), vm);
                    states.transition(row, SandboxStatus.RUNNING,
                            r -> r.withResumed(row.spawnMs(), SandboxService.now()));
                    drop(row, null, snapshot);
                } else if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED);
                } else {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM died while resuming"));
                }
            }
            case FORKING -> {
                if (alive) {
                    host.register(row.id(), vm);
                    states.transition(row, SandboxStatus.RUNNING,
                            r -> r.withRunning(null, LocalHost.ID, null, SandboxService.now()));
                    drop(row, null, snapshot);
                } else if (snapshot != null) {
                    states.transition(row, SandboxStatus.PAUSED,
                            r -> r.withPausedAt(snapshot.pausedAt().truncatedTo(ChronoUnit.MILLIS)));
                } else {
                    states.transition(row, SandboxStatus.FAILED,
                            r -> r.withFailure("the control plane stopped while the sandbox was forking"));
                    drop(row, vm, null);
                    discardUnfinished(row);
                }
            }
            case PAUSED -> {
                if (snapshot == null) {
                    states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its snapshot is gone"));
                }
                drop(row, vm, null);
            }
            default -> throw new IllegalStateException("not a status to reconcile: " + row.status());
        }
    }

    /** What a boot or fork that never came up left (this process is the only one that starts this row's VM). */
    private void discardUnfinished(SandboxRecord row) {
        try {
            host.vmm().discard(SandboxService.vmId(row.id()));
        } catch (IOException | RuntimeException e) {
            log.error("removing what the unfinished start of sandbox {} left failed", row.id(), e);
        }
    }

    private static void drop(SandboxRecord row, Vm vm, PausedVm snapshot) {
        if (vm != null) {
            SandboxService.destroyVm(row.id(), vm);
        }
        if (snapshot != null) {
            SandboxSnapshots.destroy(snapshot);
        }
    }
}
