package sh.createos.sandbox.sdk;

/** The response headers did not arrive within the client's timeout; never retried (the server may still act). */
public class RequestTimeoutException extends SandboxException {
    private static final long serialVersionUID = 1L;

    /** A timeout of one request. */
    public RequestTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
