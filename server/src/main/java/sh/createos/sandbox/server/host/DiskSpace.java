package sh.createos.sandbox.server.host;

/** A host's disk where overlays, snapshots and templates live: what is free (usable) and the filesystem's size. */
public record DiskSpace(long freeMib, long totalMib) {}
