package sh.createos.sandbox.host.vmm;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VM directories that a pause, resume, restore or recovery of this process is working on. Recovery skips
 * them (what looks half done there is in progress), and two such operations never run on one VM at once.
 */
final class VmOperations {
    private static final Set<Path> BUSY = ConcurrentHashMap.newKeySet();

    private VmOperations() {}

    /** False if another operation holds {@code dir}. */
    static boolean begin(Path dir) {
        return BUSY.add(dir);
    }

    static void end(Path dir) {
        BUSY.remove(dir);
    }
}
