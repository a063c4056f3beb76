package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/** Brings the rows and the VMs back in line when the control plane starts. */
final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final Set<SandboxStatus> UNFINISHED = EnumSet.of(SandboxStatus.CREATING, SandboxStatus.RUNNING,
            SandboxStatus.PAUSING, SandboxStatus.RESUMING, SandboxStatus.FORKING, SandboxStatus.DESTROYING);

    private final Store store;
    private final LocalHost host;
    private final SandboxStateMachine states;

    Reconciler(Store store, LocalHost host, SandboxStateMachine states) {
        this.store = store;
        this.host = host;
        this.states = states;
    }

    /**
     * At start: re-attach to the VMs that survived the last process, finish what it left half-done, and fail the
     * rows whose VM is gone.
     */
    void run() throws IOException {
        if (host.problem().isPresent()) {
            log.warn("no guest kit, not reconciling VMs: {}", host.problem().get());
            return;
        }
        Map<String, Vm> vms = new HashMap<>();
        for (Vm vm : host.vmm().attachAll()) {
            vms.put(vm.id(), vm);
        }
        for (SandboxRecord row : store.sandboxesIn(UNFINISHED)) {
            Vm vm = vms.remove(SandboxService.vmId(row.id()));
            switch (row.status()) {
                case CREATING -> {
                    // Its client got an error when we stopped: fail the row first, then drop the VM (a crash in
                    // between leaves an orphan VM, which the next start destroys).
                    states.transition(row, SandboxStatus.FAILED,
                            r -> r.withFailure("the control plane stopped while the sandbox was booting"));
                    if (vm != null) {
                        SandboxService.destroyVm(row.id(), vm);
                    }
                }
                case DESTROYING -> {
                    if (vm != null) {
                        SandboxService.destroyVm(row.id(), vm);
                    }
                    states.transition(row, SandboxStatus.DESTROYED);
                }
                case RUNNING -> {
                    if (vm != null && vm.isAlive()) {
                        host.register(row.id(), vm);
                    } else {
                        states.transition(row, SandboxStatus.FAILED, r -> r.withFailure("its VM is gone"));
                    }
                }
                default -> {
                    if (vm != null) {
                        host.register(row.id(), vm);
                    } else if (SandboxStateMachine.allowed(row.status(), SandboxStatus.ERROR)) {
                        states.transition(row, SandboxStatus.ERROR, r -> r.withFailure("its VM is gone"));
                    }
                }
            }
        }
        for (Vm orphan : vms.values()) {
            if (orphan.id().startsWith("sb-")) {
                log.warn("destroying VM {} that no live sandbox owns", orphan.id());
                SandboxService.destroyVm(orphan.id(), orphan);
            } else {
                orphan.close();
            }
        }
        log.info("reconciled: {} VMs attached", host.view().vmCount());
    }
}
