package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/** HTTP 400 or 422: a malformed field or body, or an Idempotency-Key reused with another body. */
public class ValidationException extends SandboxApiException {
    private static final long serialVersionUID = 1L;

    /** See {@link SandboxApiException#SandboxApiException}. */
    public ValidationException(int statusCode, ErrorCode code, String rawCode, String message, String requestId, String method,
            String endpoint) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
    }
}
