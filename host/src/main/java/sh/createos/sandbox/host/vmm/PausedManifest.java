package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;

/**
 * {@code paused.json}: what a complete pause left. {@code layer} is the frozen disk in {@code <data>/layers/}; until
 * the pause's last step has moved the VM's overlay there, the overlay is still in the VM's directory.
 */
record PausedManifest(
        VmSpec spec,
        String layer,
        @JsonProperty("paused_at_ms") long pausedAtMs,
        @JsonProperty("memory_bytes") long memoryBytes,
        /** {@link #RAM_BACKEND}, or null for a snapshot of a version before RAM backends ({@link GuestRam#LEGACY}). */
        @JsonProperty("ram_layout") String ramLayout,
        /** The {@link CpuIdentity} the VM ran with, or null for a snapshot from before those were recorded. */
        @JsonProperty("cpu") String cpu) {
    static final String RAM_BACKEND = "backend";

    /** What a restore of this snapshot's full memory stream runs with. */
    GuestRam restoreRam() {
        return RAM_BACKEND.equals(ramLayout) ? GuestRam.ANONYMOUS : GuestRam.LEGACY;
    }

    Path layerPath() {
        return Path.of(layer);
    }
}
