package sh.createos.sandbox.server.sandbox;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per sandbox for the engine steps that must not overlap on it: pause, resume, a fork reading its
 * snapshot, and the reclaim of a destroy. Reads and state checks do not take it; the state machine's
 * compare-and-set decides who wins a race, and the lock only keeps two engine steps apart.
 */
final class SandboxLocks {
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    ReentrantLock of(String sandboxId) {
        return locks.computeIfAbsent(sandboxId, id -> new ReentrantLock());
    }

    /** The sandbox is destroyed: its lock is no longer needed. */
    void forget(String sandboxId) {
        locks.remove(sandboxId);
    }
}
