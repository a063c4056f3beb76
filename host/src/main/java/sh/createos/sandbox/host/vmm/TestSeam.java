package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Points where a test can make this process stop for good, to kill it there deterministically (a kill -9 in the
 * middle of a destroy). Inert unless the JVM runs with {@code -Dcreateos.test.seam=NAME}: then reaching NAME
 * creates the file {@code -Dcreateos.test.seam-file} names and blocks the thread until it is interrupted.
 */
final class TestSeam {
    private static final Logger log = LoggerFactory.getLogger(TestSeam.class);
    /**
     * In {@link QemuVm#destroy()}: the VMM is gone (having quit, it removed its pid file) and the first file of its
     * directory deleted; the disk overlay, sockets and logs are still there.
     */
    static final String VM_DESTROY_MIDWAY = "vm-destroy-midway";
    /**
     * In {@link SnapshotConverter}: the conversion's QEMU has loaded the full stream and saved the device state; it
     * still runs, its files are in the work directory, the snapshot is not switched yet.
     */
    static final String CONVERSION_SAVED = "conversion-saved";

    private TestSeam() {}

    static void reached(String name) throws IOException {
        if (!name.equals(System.getProperty("createos.test.seam"))) {
            return;
        }
        log.warn("test seam {} reached: blocking here", name);
        String file = System.getProperty("createos.test.seam-file");
        if (file != null) {
            Files.writeString(Path.of(file), name);
        }
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted at test seam " + name);
        }
    }
}
