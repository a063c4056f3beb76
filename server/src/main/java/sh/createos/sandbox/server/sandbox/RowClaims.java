package sh.createos.sandbox.server.sandbox;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.store.Store;

/**
 * The row claims this replica holds while it acts on a sandbox (a create, pause, resume, fork, reclaim, reconcile).
 * A claim lasts {@link #TTL} and is renewed every {@link #RENEW_EVERY} while the operation runs, so a slow live
 * operation keeps its row, and a replica killed in the middle of one loses it within {@link #TTL}: then another
 * replica's {@link Reconciler#sweep} finishes or rolls the row back. Nested holds of one row (an idle auto-pause
 * runs a pause) count, so the inner one does not release the outer one's claim.
 */
final class RowClaims {
    private static final Logger log = LoggerFactory.getLogger(RowClaims.class);
    /** A killed replica's rows wait this long for another replica: long against a renewal's hiccup. */
    static final Duration TTL = Duration.ofSeconds(20);
    static final Duration RENEW_EVERY = Duration.ofSeconds(5);

    private final Store store;
    private final String owner;
    private final Map<String, Integer> held = new ConcurrentHashMap<>();

    RowClaims(Store store, String owner) {
        this.store = store;
        this.owner = owner;
    }

    /** A claim on the row, released when closed. */
    interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Claims the row for an operation of this replica. When another live replica holds it (its reconcile or idle
     * auto-pause), the operation still goes ahead (the state machine's compare-and-set decides races) but holds no
     * claim of its own.
     */
    Hold hold(String sandboxId) {
        Instant now = Instant.now();
        if (!store.claim(sandboxId, owner, now, now.plus(TTL))) {
            log.debug("sandbox {} is claimed by another replica; acting without a claim", sandboxId);
            return () -> {};
        }
        held.merge(sandboxId, 1, Integer::sum);
        return () -> release(sandboxId);
    }

    /** Only when no other replica holds the row: for reconcile and idle auto-pause, which act only on claimed rows. */
    Hold tryHold(String sandboxId) {
        Instant now = Instant.now();
        if (!store.claim(sandboxId, owner, now, now.plus(TTL))) {
            return null;
        }
        held.merge(sandboxId, 1, Integer::sum);
        return () -> release(sandboxId);
    }

    /** Only a claim a dead replica let lapse (an unclaimed row may be a live create between insert and claim). */
    Hold takeLapsed(String sandboxId) {
        Instant now = Instant.now();
        if (!store.claimLapsed(sandboxId, owner, now, now.plus(TTL))) {
            return null;
        }
        held.merge(sandboxId, 1, Integer::sum);
        return () -> release(sandboxId);
    }

    /**
     * Stops renewing the row's claim without giving it back: it lapses within {@link #TTL}, and a later sweep (of
     * any replica) takes the row again. For a row that could not be settled now (its host does not answer).
     */
    void abandon(String sandboxId) {
        held.remove(sandboxId);
    }

    private void release(String sandboxId) {
        boolean[] last = new boolean[1];
        held.computeIfPresent(sandboxId, (id, n) -> {
            last[0] = n <= 1;
            return n <= 1 ? null : n - 1;
        });
        if (last[0]) {
            store.unclaim(sandboxId, owner);
        }
    }

    /**
     * Pushes the claims of the operations running here {@link #TTL} ahead (only those: a claim an earlier process
     * on this data directory left, on a row it could not settle, must lapse for a sweep to take it).
     */
    void renew() {
        Instant now = Instant.now();
        for (String sandboxId : held.keySet()) {
            if (!store.claim(sandboxId, owner, now, now.plus(TTL))) {
                log.warn("the claim on sandbox {} lapsed while this replica acted on it: another replica may "
                        + "settle it meanwhile", sandboxId);
            }
        }
    }
}
