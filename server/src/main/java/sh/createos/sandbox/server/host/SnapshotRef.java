package sh.createos.sandbox.server.host;

import java.time.Instant;

/** A paused sandbox's snapshot as the control plane knows it: where it is and what it holds, never a path. */
public record SnapshotRef(String sandboxId, String hostId, Instant pausedAt, long bytes) {}
