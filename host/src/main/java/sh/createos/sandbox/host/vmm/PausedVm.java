package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A VM saved to disk by {@link Vm#pause()}: no VMM process, no CPU or RAM, only files. It stays paused until
 * {@link Vmm#resume} brings it back under the same id, and any number of {@link Vmm#fork}s may be restored from it
 * meanwhile (they leave it untouched).
 */
public interface PausedVm {
    String id();

    /** The spec it was running with (the hostname is the one it had). */
    VmSpec spec();

    /** {@code <data>/vms/<id>/}, holding the memory file and the manifest {@code paused.json}. */
    Path dir();

    Instant pausedAt();

    /** Bytes on disk of the memory + device state file. */
    long memoryBytes();

    /** Bytes on disk of the frozen disk layer this pause produced (what the guest wrote since its last restore). */
    long diskLayerBytes();

    /** {@link #memoryBytes()} + {@link #diskLayerBytes()}. */
    default long snapshotBytes() {
        return memoryBytes() + diskLayerBytes();
    }

    /** Removes the snapshot, and every disk layer that nothing else (a fork, another paused VM) still needs. */
    void destroy() throws IOException;
}
