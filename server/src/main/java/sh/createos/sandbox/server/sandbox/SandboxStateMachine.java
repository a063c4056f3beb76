package sh.createos.sandbox.server.sandbox;

import static sh.createos.sandbox.model.SandboxStatus.CREATING;
import static sh.createos.sandbox.model.SandboxStatus.DESTROYED;
import static sh.createos.sandbox.model.SandboxStatus.DESTROYING;
import static sh.createos.sandbox.model.SandboxStatus.ERROR;
import static sh.createos.sandbox.model.SandboxStatus.FAILED;
import static sh.createos.sandbox.model.SandboxStatus.FORKING;
import static sh.createos.sandbox.model.SandboxStatus.PAUSED;
import static sh.createos.sandbox.model.SandboxStatus.PAUSING;
import static sh.createos.sandbox.model.SandboxStatus.RESUMING;
import static sh.createos.sandbox.model.SandboxStatus.RUNNING;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;

/**
 * The sandbox lifecycle of spec §14 in one place. Every change of a row goes through here and is written
 * (compare-and-set on the status it was read in) before the caller acts on it, so a crash at any point leaves a
 * state that the next start can finish or roll back.
 */
public final class SandboxStateMachine {
    /**
     * The allowed moves. A transitional state may roll back to where it came from when the engine step fails and
     * left things as they were (pausing → running, resuming → paused); a fork's child is inserted as
     * {@code forking} (the source stays {@code paused}) and ends running, paused or failed. A DELETE may arrive in
     * any live state; the request that is still acting sees it and reclaims what it made.
     */
    private static final Map<SandboxStatus, Set<SandboxStatus>> NEXT = Map.of(
            CREATING, EnumSet.of(RUNNING, FAILED, DESTROYING),
            RUNNING, EnumSet.of(PAUSING, DESTROYING, ERROR, FAILED),
            PAUSING, EnumSet.of(PAUSED, RUNNING, ERROR, DESTROYING),
            PAUSED, EnumSet.of(RESUMING, DESTROYING, DESTROYED, ERROR),
            RESUMING, EnumSet.of(RUNNING, PAUSED, ERROR, DESTROYING),
            FORKING, EnumSet.of(RUNNING, PAUSED, FAILED, DESTROYING),
            ERROR, EnumSet.of(DESTROYING, DESTROYED),
            DESTROYING, EnumSet.of(DESTROYED),
            FAILED, EnumSet.of(DESTROYED),
            DESTROYED, EnumSet.noneOf(SandboxStatus.class));

    private final Store store;

    public SandboxStateMachine(Store store) {
        this.store = store;
    }

    public static boolean allowed(SandboxStatus from, SandboxStatus to) {
        return NEXT.get(from).contains(to);
    }

    /**
     * Moves {@code current} to {@code to}, applying {@code changes} to the row in the same write.
     *
     * @throws DomainException 409 when the transition is not allowed or the row changed state meanwhile
     */
    public SandboxRecord transition(SandboxRecord current, SandboxStatus to, UnaryOperator<SandboxRecord> changes) {
        if (!allowed(current.status(), to)) {
            throw DomainException.invalidState("sandbox " + current.id() + " is " + current.status().wire() + " and cannot become " + to.wire());
        }
        return write(current, changes.apply(current).withStatus(to));
    }

    public SandboxRecord transition(SandboxRecord current, SandboxStatus to) {
        return transition(current, to, UnaryOperator.identity());
    }

    /**
     * Changes fields of a row without changing its status; the row must still be in {@code requiredStatus}.
     *
     * @throws DomainException 409 when the sandbox is in another state
     */
    public SandboxRecord update(SandboxRecord current, SandboxStatus requiredStatus,
            UnaryOperator<SandboxRecord> changes) {
        requireStatus(current, requiredStatus);
        return write(current, changes.apply(current).withStatus(current.status()));
    }

    /** @throws DomainException 409 unless the sandbox is in {@code required} */
    public static void requireStatus(SandboxRecord sandbox, SandboxStatus required) {
        if (sandbox.status() != required) {
            String hint = sandbox.status() == PAUSED && required == RUNNING
                    ? "; resume it first (POST /v1/sandboxes/" + sandbox.id() + "/resume)" : "";
            throw DomainException.invalidState("sandbox " + sandbox.id() + " is "
                    + sandbox.status().wire() + ", not " + required.wire() + hint);
        }
    }

    private SandboxRecord write(SandboxRecord current, SandboxRecord updated) {
        if (!store.updateSandbox(updated, current.status())) {
            SandboxStatus now = store.sandbox(current.id()).map(SandboxRecord::status).orElse(null);
            throw DomainException.invalidState("sandbox " + current.id() + " changed state meanwhile (now "
                    + (now == null ? "gone" : now.wire()) + ")");
        }
        return updated;
    }
}
