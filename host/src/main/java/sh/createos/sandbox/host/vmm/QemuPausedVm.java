package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A paused VM as its directory's manifest describes it. */
record QemuPausedVm(VmDirectory directory, PausedManifest manifest, DiskLayers layers) implements PausedVm {
    private static final Logger log = LoggerFactory.getLogger(QemuPausedVm.class);

    @Override
    public String id() {
        return manifest.spec().id();
    }

    @Override
    public VmSpec spec() {
        return manifest.spec();
    }

    @Override
    public Path dir() {
        return directory.path();
    }

    @Override
    public Instant pausedAt() {
        return Instant.ofEpochMilli(manifest.pausedAtMs());
    }

    @Override
    public long memoryBytes() {
        // The full stream, or once converted the RAM file beside the device state.
        return sizeOrZero(directory.memorySnapshot()) + sizeOrZero(directory.deviceState()) + sizeOrZero(directory.ramFile());
    }

    @Override
    public long diskLayerBytes() {
        return sizeOrZero(manifest.layerPath());
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public void destroy() throws IOException {
        // A conversion writes into the directory: it ends first.
        SnapshotConverter.cancelAndAwait(directory.path());
        layers.lock().lock();
        try {
            // The manifest goes first: from then on this is no paused VM, whatever else a crash leaves.
            Files.deleteIfExists(directory.pausedManifest());
            directory.delete();
        } finally {
            layers.lock().unlock();
        }
        layers.collectGarbage();
        log.info("paused VM {} destroyed", id());
    }
}
