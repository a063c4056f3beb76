package sh.createos.sandbox.sdk;

/** The root of every error this SDK throws; unchecked, so blocking calls compose with streams and lambdas. */
public class SandboxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with a message. */
    public SandboxException(String message) {
        super(message);
    }

    /** An error with a message and its cause. */
    public SandboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
