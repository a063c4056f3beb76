package sh.createos.sandbox.server;

import sh.createos.sandbox.model.ErrorCode;

/**
 * A failure in the domain's words: an {@link ErrorCode} and a message for the caller. Sandbox, network and lifecycle
 * code throw this; the HTTP layer ({@code http.HttpStatuses}) alone decides which status a code answers.
 */
public class DomainException extends RuntimeException {
    private final ErrorCode errorCode;

    public DomainException(ErrorCode errorCode, String message) {
        super(message);
        this.errorCode = errorCode;
    }

    public DomainException(ErrorCode errorCode, String message, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }

    /** The code as written into {@code data.code} of the envelope. */
    public String wireCode() {
        return errorCode.wire();
    }

    public static DomainException invalid(String message) {
        return new DomainException(ErrorCode.VALIDATION, message);
    }

    public static DomainException notFound(String message) {
        return new DomainException(ErrorCode.NOT_FOUND, message);
    }

    public static DomainException invalidState(String message) {
        return new DomainException(ErrorCode.INVALID_STATE, message);
    }

    public static DomainException unavailable(String message) {
        return new DomainException(ErrorCode.UNAVAILABLE, message);
    }
}
