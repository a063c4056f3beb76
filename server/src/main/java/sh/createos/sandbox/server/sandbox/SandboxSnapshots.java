package sh.createos.sandbox.server.sandbox;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
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

    /** Passes when the host holds the running sandbox's VM; otherwise marks it error and throws INVALID_STATE. */
    interface LiveVm {
        void require(SandboxRecord running);
    }

    /** Quota and capacity checks, then the insert of a new row. */
    interface Admission {
        SandboxRecord admit(SandboxRecord row);
    }

    private final Store store;
    private final Host host;
    private final SandboxStateMachine states;
    private final ActivityTracker activity;
    private final SandboxLocks locks;
    private final SandboxLeases leases;
    private final LiveVm liveVm;
    private final RowClaims claims;

    SandboxSnapshots(Store store, Host host, SandboxStateMachine states, ActivityTracker activity,
            SandboxLocks locks, SandboxLeases leases, LiveVm liveVm, RowClaims claims) {
        this.claims = claims;
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
        try (RowClaims.Hold claim = claims.hold(sandbox.id())) {
            SandboxRecord current = reread(sandbox);
            require(current, SandboxStatus.RUNNING, "only a running sandbox can be paused");
            liveVm.require(current);
            SandboxRecord pausing = states.transition(current, SandboxStatus.PAUSING);
            log.info("pausing sandbox {} ({})", sandbox.id(), reason);
            SnapshotRef paused;
            try {
                paused = host.pause(sandbox.id());
            } catch (IOException | RuntimeException e) {
                throw pauseFailed(pausing, e);
            }
            activity.forget(sandbox.id());
            SandboxRecord done = settle(pausing, SandboxStatus.PAUSED, r -> r.withPausedAt(millis(paused.pausedAt())),
                    () -> destroySnapshot(sandbox.id()));
            log.info("sandbox {} paused ({} MiB of snapshot)", sandbox.id(), paused.bytes() >> 20);
            return done;
        } finally {
            lock.unlock();
        }
    }

    private DomainException pauseFailed(SandboxRecord pausing, Exception e) {
        log.warn("pausing sandbox {} failed: {}", pausing.id(), e.getMessage());
        if (host.isRunning(pausing.id())) {
            settle(pausing, SandboxStatus.RUNNING, UnaryOperator.identity(), () -> destroyVm(pausing.id()));
            return new DomainException(ErrorCode.PAUSE_FAILED, "pausing sandbox " + pausing.id()
                    + " failed; it runs on: " + e.getMessage(), e);
        }
        settle(pausing, SandboxStatus.ERROR, r -> r.withFailure("its VM died while pausing: " + e.getMessage()),
                () -> destroyVm(pausing.id()));
        return new DomainException(ErrorCode.PAUSE_FAILED, "pausing sandbox " + pausing.id()
                + " failed and its VM died: " + e.getMessage(), e);
    }

    /** paused → resuming → running; on an engine failure back to paused, the snapshot unchanged. */
    SandboxRecord resume(SandboxRecord sandbox) {
        ReentrantLock lock = locks.of(sandbox.id());
        lock.lock();
        try (RowClaims.Hold claim = claims.hold(sandbox.id())) {
            SandboxRecord current = reread(sandbox);
            require(current, SandboxStatus.PAUSED, "only a paused sandbox can be resumed");
            requireSnapshot(current);
            if (!host.hasMemoryFor(current.memMib())) {
                throw DomainException.unavailable("no host with capacity: not enough free memory for "
                        + current.memMib() + " MiB");
            }
            SandboxRecord resuming = states.transition(current, SandboxStatus.RESUMING);
            Started started;
            try {
                started = host.resume(sandbox.id());
            } catch (IOException | RuntimeException e) {
                log.warn("resuming sandbox {} failed: {}", sandbox.id(), e.getMessage());
                settle(resuming, SandboxStatus.PAUSED, UnaryOperator.identity(), () -> destroySnapshot(sandbox.id()));
                throw new DomainException(failure(e, ErrorCode.RESUME_FAILED), "resuming sandbox " + sandbox.id()
                        + " failed; it stays paused: " + e.getMessage(), e);
            }
            activity.touch(sandbox.id());
            SandboxRecord running = settle(resuming, SandboxStatus.RUNNING,
                    r -> r.withResumed(started.tookMs(), SandboxService.now()), () -> destroyVm(sandbox.id()));
            log.info("sandbox {} resumed in {} ms", sandbox.id(), started.tookMs());
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
        try (RowClaims.Hold claim = claims.hold(child.id())) {
            return forkInto(source, req, child);
        }
    }

    /** The admitted child's lease and VM from the source's snapshot, then running (or paused). */
    private SandboxRecord forkInto(SandboxRecord source, ForkSandboxRequest req, SandboxRecord child) {
        Started started;
        String ip;
        ReentrantLock lock = locks.of(source.id());
        lock.lock();
        try {
            SandboxRecord current = reread(source);
            if (current.status() != SandboxStatus.PAUSED) {
                settle(child, SandboxStatus.FAILED, r -> r.withFailure("its source stopped being paused"), () -> {});
                require(current, SandboxStatus.PAUSED, "only a paused sandbox can be forked");
            }
            requireSnapshot(current);
            try {
                ip = leases.acquire(child, List.of());
                started = host.fork(source.id(), child.id(), SandboxService.shape(child));
            } catch (IOException | RuntimeException e) {
                log.warn("forking sandbox {} into {} failed: {}", source.id(), child.id(), e.getMessage());
                leases.release(child.id());
                settle(child, SandboxStatus.FAILED, r -> r.withFailure("fork failed: " + e.getMessage()), () -> {});
                throw new DomainException(failure(e, ErrorCode.FORK_FAILED), "forking sandbox " + source.id() + " into "
                        + child.id() + " failed: " + e.getMessage(), e);
            }
        } finally {
            lock.unlock();
        }
        log.info("sandbox {} forked from {} in {} ms", child.id(), source.id(), started.tookMs());
        if (ForkRequests.startPaused(req)) {
            return pauseNewChild(child, ip, started.tookMs());
        }
        activity.touch(child.id());
        return settle(child, SandboxStatus.RUNNING, r -> r.withRunning(ip, host.hostOf(child.id()), started.tookMs(),
                SandboxService.now()), () -> {
                    destroyVm(child.id());
                    leases.release(child.id());
                });
    }

    private SandboxRecord pauseNewChild(SandboxRecord child, String ip, long spawnMs) {
        SnapshotRef paused;
        try {
            paused = host.pause(child.id());
        } catch (IOException | RuntimeException e) {
            destroyVm(child.id());
            leases.release(child.id());
            settle(child, SandboxStatus.FAILED, r -> r.withFailure("pausing the new fork failed: " + e.getMessage()),
                    () -> {});
            throw new DomainException(ErrorCode.FORK_FAILED, "pausing the fork " + child.id() + " failed: "
                    + e.getMessage(), e);
        }
        // Never running, so no running_at; the lease (and so the address) stays for its resume.
        return settle(child, SandboxStatus.PAUSED, r -> r.withRunning(ip, host.hostOf(child.id()), spawnMs, null)
                .withPausedAt(millis(paused.pausedAt())), () -> {
                    destroySnapshot(child.id());
                    leases.release(child.id());
                });
    }

    /** A restore the host refused because its CPU is not the snapshot's is the caller's to hear as a conflict. */
    private static ErrorCode failure(Exception e, ErrorCode otherwise) {
        return e instanceof DomainException domain && domain.errorCode() == ErrorCode.SNAPSHOT_INCOMPATIBLE
                ? ErrorCode.SNAPSHOT_INCOMPATIBLE : otherwise;
    }

    /** A paused sandbox needs its complete snapshot; without one it is broken (error). */
    private void requireSnapshot(SandboxRecord paused) {
        try {
            if (host.snapshot(paused.id()).isPresent()) {
                return;
            }
        } catch (IOException e) {
            throw new DomainException(ErrorCode.SNAPSHOT_UNREADABLE, "the snapshot of sandbox " + paused.id()
                    + " cannot be read: " + e.getMessage(), e);
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
