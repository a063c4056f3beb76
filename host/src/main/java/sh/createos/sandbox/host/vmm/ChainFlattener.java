package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps disk chains short: every pause adds a layer under the resumed VM's overlay and every fork one under the
 * child's, and each layer costs a lookup on every read that misses the layers above. Past {@link #MAX_LAYERS}, a
 * QMP {@code block-stream} job copies the layers' data into the VM's own overlay in the background and relinks it
 * directly onto the base image; the layers it no longer needs are then collected.
 */
final class ChainFlattener {
    private static final Logger log = LoggerFactory.getLogger(ChainFlattener.class);
    static final int MAX_LAYERS = 3;
    private static final String JOB = "flatten";

    private ChainFlattener() {}

    /** Starts the job if the chain is deep; never fails the caller (a deep chain still works, only slower). */
    static void flattenIfDeep(QemuVm vm, DiskLayers layers) {
        try {
            List<Path> chain = DiskLayers.chain(vm.directory().overlay());
            int depth = DiskLayers.backingLayers(vm.directory().overlay());
            if (depth <= MAX_LAYERS) {
                return;
            }
            Path base = chain.getLast();
            vm.qmp().onEvent(event -> {
                if (event.name().equals("BLOCK_JOB_COMPLETED") && JOB.equals(event.data().path("device").asText())) {
                    log.info("VM {}: disk chain flattened onto {} ({})", vm.id(), base.getFileName(),
                            event.data().path("error").asText("ok"));
                    Thread.ofVirtual().start(layers::collectGarbage);
                }
            });
            vm.qmp().execute("block-stream", Map.of("job-id", JOB, "device", QemuCommandLine.ROOT_DRIVE, "base", base.toString()));
            log.info("VM {}: flattening a disk chain of {} layers onto {}", vm.id(), depth, base);
        } catch (IOException e) {
            log.warn("VM {}: cannot flatten its disk chain: {}", vm.id(), e.getMessage());
        }
    }
}
