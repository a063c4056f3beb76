package sh.createos.sandbox.host.vmm;

import java.io.IOException;

/** QEMU answered a QMP command with an error. */
public class QmpException extends IOException {
    private final String errorClass;

    QmpException(String command, String errorClass, String description) {
        super("QMP command " + command + " failed: " + errorClass + ": " + description);
        this.errorClass = errorClass;
    }

    /** QMP's error class, e.g. "GenericError", "DeviceNotFound". */
    public String errorClass() {
        return errorClass;
    }
}
