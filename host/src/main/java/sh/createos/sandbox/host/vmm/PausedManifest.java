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
        /**
         * How the memory is saved: {@link #FULL_STREAM}, {@link #RAM_FILE}, {@link #RAM_BACKEND}, or null for a
         * snapshot of a version before RAM backends ({@link GuestRam#LEGACY}).
         */
        @JsonProperty("ram_layout") String ramLayout,
        /** The {@link CpuIdentity} the VM ran with, or null for a snapshot from before those were recorded. */
        @JsonProperty("cpu") String cpu) {
    /** {@code memory.snap}, a full stream saved with x-ignore-shared (pauses before RAM files; template builds). */
    static final String RAM_BACKEND = "backend";
    /** {@code memory.snap}, a full stream saved without x-ignore-shared: what a pause writes; it can be converted. */
    static final String FULL_STREAM = "stream";
    /** {@code ram} + {@code device.snap} (device state only): what {@link SnapshotConverter} turns a stream into. */
    static final String RAM_FILE = "file";

    /** What a restore of this snapshot runs with. */
    GuestRam restoreRam(VmDirectory dir) {
        if (ramLayout == null) {
            return GuestRam.LEGACY;
        }
        return switch (ramLayout) {
            case FULL_STREAM -> GuestRam.FULL_STREAM;
            case RAM_FILE -> GuestRam.privateFile(dir.ramFile());
            default -> GuestRam.ANONYMOUS;
        };
    }

    /** The stream a restore loads: the full one, or the device state beside the RAM file. */
    Path memory(VmDirectory dir) {
        return isRamFile() ? dir.deviceState() : dir.memorySnapshot();
    }

    boolean isRamFile() {
        return RAM_FILE.equals(ramLayout);
    }

    /** The same snapshot once converted, its device state {@code deviceBytes} long. */
    PausedManifest converted(long deviceBytes) {
        return new PausedManifest(spec, layer, pausedAtMs, deviceBytes, RAM_FILE, cpu);
    }

    Path layerPath() {
        return Path.of(layer);
    }
}
