package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.vmm.PausedVm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.network.SandboxLeases;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * Pause, resume and fork (spec §6.7-§6.9, §14.1). Each persists its transitional state before the engine acts,
 * then the outcome: done, or rolled back to where it came from when the engine left things as they were. A DELETE
 * that arrives meanwhile only marks the row {@code destroying}; the request that is acting sees that when it
 * writes its outcome and reclaims what it made.
 */
final class SandboxSnapshots {
    private static final Logger log = LoggerFactory.getLogger(SandboxSnapshots.class);

    /** The sandbox's running VM, or a 409 that says why there is none. */
    interface LiveVm {
        Vm of(SandboxRecord running);
    }

    /** Quota and capacity checks, then the insert of a new row. */
    interface Admission {
        SandboxRecord admit(SandboxRecord row);
    }

    private final Store store;
    private final LocalHost host;
    private final SandboxStateMachine states;
    private final ActivityTracker activity;
    private final SandboxLocks locks;
    private final SandboxLeases leases;
    private final LiveVm liveVm;

    SandboxSnapshots(Store store, LocalHost host, SandboxStateMachine states, ActivityTracker activity,
            SandboxLocks locks, SandboxLeases leases, LiveVm liveVm) {
        this.store = store;
        this.host = host;
        this.states = states;
        this.activity = activity;
        this.locks = locks;
        this.leases = leases;
        this.liveVm = liveVm;
    }

    /** running → pausing → paused; on an engine failure back to running (or error if the VM died). */
    SandboxRecord pause(SandboxRecord sandbox, String reason) {
        ReentrantLock lock = locks.of(sandbox.id());
        lock.lock();
        try {
            SandboxRecord current = reread(sandbox);
            require(current, SandboxStatus.RUNNING, "only a running sandbox can be paused");
            Vm vm = liveVm.of(current);
            SandboxRecord pausing = states.transition(current, SandboxStatus.PAUSING);
            log.info("pausing sandbox {} ({})", sandbox.id(), reason);
            PausedVm paused;
            try {
                paused = vm.pause();
            } catch (IOException | RuntimeException e) {
                throw pauseFailed(pausing, vm, e);
            }
            host.unregister(sandbox.id());
            activity.forget(sandbox.id());
            SandboxRecord done = settle(pausing, SandboxStatus.PAUSED, r -> r.withPausedAt(millis(paused.pausedAt())),
                    () -> destroy(paused));
            log.info("sandbox {} paused ({} MiB of snapshot)", sandbox.id(), paused.snapshotBytes() >> 20);
            return done;
        } finally {
            lock.unlock();
        }
    }

    private DomainException pauseFailed(SandboxRecord pausing, Vm vm, Exception e) {
        log.warn("pausing sandbox {} failed: {}", pausing.id(), e.getMessage());
        if (vm.isAlive()) {
            settle(pausing, SandboxStatus.RUNNING, UnaryOperator.identity(), () -> reclaim(pausing.id(), vm));
            return new DomainException(ErrorCode.PAUSE_FAILED, "pausing sandbox " + pausing.id() + " failed; it runs on: "
                    + e.getMessage());
        }
        host.unregister(pausing.id());
        settle(pausing, SandboxStatus.ERROR, r -> r.withFailure("its VM died while pausing: " + e.getMessage()),
                () -> reclaim(pausing.id(), vm));
        return new DomainException(ErrorCode.PAUSE_FAILED, "pausing sandbox " + pausing.id() + " failed and its VM died: "
                + e.getMessage());
    }

    /** paused → resuming → running; on an engine failure back to paused, the snapshot unchanged. */
    SandboxRecord resume(SandboxRecord sandbox) {
        ReentrantLock lock = locks.of(sandbox.id());
        lock.lock();
        try {
            SandboxRecord current = reread(sandbox);
            require(current, SandboxStatus.PAUSED, "only a paused sandbox can be resumed");
            PausedVm paused = snapshotOf(current);
            if (!host.hasMemoryFor(current.memMib())) {
                throw DomainException.unavailable("no host with capacity: not enough free memory for "
                        + current.memMib() + " MiB");
            }
            SandboxRecord resuming = states.transition(current, SandboxStatus.RESUMING);
            Vm vm;
            try {
                vm = host.vmm().resume(paused);
            } catch (IOException | RuntimeException e) {
                log.warn("resuming sandbox {} failed: {}", sandbox.id(), e.getMessage());
                settle(resuming, SandboxStatus.PAUSED, UnaryOperator.identity(), () -> destroy(paused));
                throw new DomainException(ErrorCode.RESUME_FAILED, "resuming sandbox " + sandbox.id()
                        + " failed; it stays paused: " + e.getMessage());
            }
            host.register(sandbox.id(), vm);
            activity.touch(sandbox.id());
            SandboxRecord running = settle(resuming, SandboxStatus.RUNNING,
                    r -> r.withResumed(vm.start().took().toMillis(), SandboxService.now()),
                    () -> reclaim(sandbox.id(), vm));
            log.info("sandbox {} resumed in {} ms", sandbox.id(), vm.start().took().toMillis());
            return running;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A new sandbox {@code forking} from the paused {@code source}, then running (or paused with
     * {@code start_paused}); the source stays paused. The child gets its own network lease (address, tap, its
     * allowlist and quota) and joins no private network. On an engine failure the child is failed with nothing left.
     */
    SandboxRecord fork(SandboxRecord source, ForkSandboxRequest req, SandboxRecord childRow, Admission admission) {
        require(source, SandboxStatus.PAUSED, "only a paused sandbox can be forked (pause it and wait for paused)");
        SandboxRecord child = admission.admit(childRow);
        Vm vm;
        String ip;
        ReentrantLock lock = locks.of(source.id());
        lock.lock();
        try {
            SandboxRecord current = reread(source);
            if (current.status() != SandboxStatus.PAUSED) {
                settle(child, SandboxStatus.FAILED, r -> r.withFailure("its source stopped being paused"), () -> {});
                require(current, SandboxStatus.PAUSED, "only a paused sandbox can be forked");
            }
            PausedVm paused = snapshotOf(current);
            String vmId = SandboxService.vmId(child.id());
            VmSpec spec = new VmSpec(vmId, child.rootfs(), child.vcpu(), child.memMib(), child.diskMib(),
                    SandboxService.hostname(child, vmId));
            try {
                ip = leases.acquire(child, List.of());
                vm = host.vmm().fork(paused, spec);
            } catch (IOException | RuntimeException e) {
                log.warn("forking sandbox {} into {} failed: {}", source.id(), child.id(), e.getMessage());
                leases.release(child.id());
                settle(child, SandboxStatus.FAILED, r -> r.withFailure("fork failed: " + e.getMessage()), () -> {});
                throw new DomainException(ErrorCode.FORK_FAILED, "forking sandbox " + source.id() + " into " + child.id()
                        + " failed: " + e.getMessage());
            }
        } finally {
            lock.unlock();
        }
        long spawnMs = vm.start().took().toMillis();
        log.info("sandbox {} forked from {} in {} ms", child.id(), source.id(), spawnMs);
        if (ForkRequests.startPaused(req)) {
            return pauseNewChild(child, vm, ip, spawnMs);
        }
        host.register(child.id(), vm);
        activity.touch(child.id());
        return settle(child, SandboxStatus.RUNNING, r -> r.withRunning(ip, LocalHost.ID, spawnMs,
                SandboxService.now()), () -> {
                    reclaim(child.id(), vm);
                    leases.release(child.id());
                });
    }

    private SandboxRecord pauseNewChild(SandboxRecord child, Vm vm, String ip, long spawnMs) {
        PausedVm paused;
        try {
            paused = vm.pause();
        } catch (IOException | RuntimeException e) {
            SandboxService.destroyVm(child.id(), vm);
            leases.release(child.id());
            settle(child, SandboxStatus.FAILED, r -> r.withFailure("pausing the new fork failed: " + e.getMessage()),
                    () -> {});
            throw new DomainException(ErrorCode.FORK_FAILED, "pausing the fork " + child.id() + " failed: "
                    + e.getMessage());
        }
        // Never running, so no running_at; the lease (and so the address) stays for its resume.
        return settle(child, SandboxStatus.PAUSED, r -> r.withRunning(ip, LocalHost.ID, spawnMs, null)
                .withPausedAt(millis(paused.pausedAt())), () -> {
                    destroy(paused);
                    leases.release(child.id());
                });
    }

    /** The complete snapshot of a paused sandbox; without one the sandbox is broken (error). */
    private PausedVm snapshotOf(SandboxRecord paused) {
        try {
            var found = host.vmm().findPaused(SandboxService.vmId(paused.id()));
            if (found.isPresent()) {
                return found.get();
            }
        } catch (IOException e) {
            throw new DomainException(ErrorCode.SNAPSHOT_UNREADABLE, "the snapshot of sandbox " + paused.id()
                    + " cannot be read: " + e.getMessage());
        }
        SandboxRecord broken = states.transition(paused, SandboxStatus.ERROR,
                r -> r.withFailure("its snapshot is gone"));
        throw DomainException.invalidState("sandbox " + paused.id() + " is " + broken.status().wire()
                + ": its snapshot is gone; destroy it");
    }

    /**
     * Writes the outcome of an operation that holds {@code held} in a transitional state. If a DELETE marked the
     * row destroying meanwhile, reclaims what the operation made, finishes the destroy and answers 409.
     */
    private SandboxRecord settle(SandboxRecord held, SandboxStatus to, UnaryOperator<SandboxRecord> changes,
            Runnable reclaim) {
        try {
            return states.transition(held, to, changes);
        } catch (DomainException e) {
            SandboxRecord now = store.sandbox(held.id()).orElseThrow(() -> e);
            if (now.status() != SandboxStatus.DESTROYING) {
                throw e;
            }
            reclaim.run();
            states.transition(now, SandboxStatus.DESTROYED);
            log.info("sandbox {} destroyed while {}", held.id(), held.status().wire());
            throw DomainException.invalidState("sandbox " + held.id() + " was destroyed while "
                    + held.status().wire());
        }
    }

    private void reclaim(String sandboxId, Vm vm) {
        host.unregister(sandboxId);
        SandboxService.destroyVm(sandboxId, vm);
    }

    static void destroy(PausedVm paused) {
        try {
            paused.destroy();
        } catch (IOException e) {
            log.error("removing the snapshot of VM {} failed", paused.id(), e);
        }
    }

    private SandboxRecord reread(SandboxRecord sandbox) {
        return store.sandbox(sandbox.id()).orElseThrow(() -> DomainException.notFound("sandbox " + sandbox.id()
                + " not found"));
    }

    private static void require(SandboxRecord sandbox, SandboxStatus required, String rule) {
        if (sandbox.status() != required) {
            throw DomainException.invalidState(rule + "; sandbox " + sandbox.id() + " is "
                    + sandbox.status().wire());
        }
    }

    private static Instant millis(Instant at) {
        return at.truncatedTo(ChronoUnit.MILLIS);
    }
}
