package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/** HTTP 403: authenticated but not allowed (a cap, a scope, an operator-only call). */
public class PermissionDeniedException extends SandboxApiException {
    private static final long serialVersionUID = 1L;

    /** See {@link SandboxApiException#SandboxApiException}. */
    public PermissionDeniedException(int statusCode, ErrorCode code, String rawCode, String message, String requestId, String method,
            String endpoint) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
    }
}
