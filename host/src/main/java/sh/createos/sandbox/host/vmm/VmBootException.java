package sh.createos.sandbox.host.vmm;

import java.io.IOException;

/** A VM did not come up; the message says which step failed and ends with the tail of the guest's serial console. */
public class VmBootException extends IOException {
    VmBootException(String message, Throwable cause) {
        super(message, cause);
    }
}
