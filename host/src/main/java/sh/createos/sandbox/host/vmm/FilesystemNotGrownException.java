package sh.createos.sandbox.host.vmm;

import java.io.IOException;

/**
 * The disk was grown but the guest's filesystem could not follow: its image has no {@code resize2fs} (a minimal
 * registry image, say). The VM is sound; its filesystem keeps the size it had, as at a boot of such an image.
 */
public final class FilesystemNotGrownException extends IOException {
    FilesystemNotGrownException(String message, Throwable cause) {
        super(message, cause);
    }
}
