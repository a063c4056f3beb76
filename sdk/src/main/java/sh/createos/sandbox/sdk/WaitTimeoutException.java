package sh.createos.sandbox.sdk;

/** A {@code waitUntil…}/{@code waitForPort} that did not see its condition within the given duration. */
public class WaitTimeoutException extends SandboxException {
    private static final long serialVersionUID = 1L;

    /** A wait that ran out of time. */
    public WaitTimeoutException(String message) {
        super(message);
    }
}
