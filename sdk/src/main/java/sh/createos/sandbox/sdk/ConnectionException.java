package sh.createos.sandbox.sdk;

/** No HTTP response: the connection failed or was dropped (after the retries the call allowed). */
public class ConnectionException extends SandboxException {
    private static final long serialVersionUID = 1L;

    /** A failure to reach the server. */
    public ConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
