package sh.createos.sandbox.server.http;

import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;

/**
 * The older form of {@link DomainException} that names its HTTP status itself, kept so that existing callers compile.
 * Its factories build a domain exception from the code ({@code forbidden("SANDBOX_LIMIT", …)} is
 * {@code ErrorCode.SANDBOX_LIMIT}); a code that is not in {@link ErrorCode} is answered verbatim with the status the
 * factory names. New code throws {@link DomainException} and lets {@link HttpStatuses} choose the status.
 */
@Deprecated
public class ApiException extends DomainException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(ErrorCode.fromWire(code).orElse(status >= 500 ? ErrorCode.INTERNAL : ErrorCode.VALIDATION), message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    @Override
    public String wireCode() {
        return code;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "VALIDATION", message);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(401, "UNAUTHORIZED", message);
    }

    public static ApiException forbidden(String code, String message) {
        return new ApiException(403, code, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "NOT_FOUND", message);
    }

    public static ApiException conflict(String code, String message) {
        return new ApiException(409, code, message);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "UNAVAILABLE", message);
    }
}
