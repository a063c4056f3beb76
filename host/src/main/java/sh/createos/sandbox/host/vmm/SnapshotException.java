package sh.createos.sandbox.host.vmm;

import java.io.IOException;

/** A pause, resume or fork failed; the message names the step. The VM is left as it was before the call. */
public class SnapshotException extends IOException {
    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
