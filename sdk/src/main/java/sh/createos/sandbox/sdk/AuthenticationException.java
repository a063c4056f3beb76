package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/** HTTP 401: the credential is missing, invalid or revoked. */
public class AuthenticationException extends SandboxApiException {
    private static final long serialVersionUID = 1L;

    /** See {@link SandboxApiException#SandboxApiException}. */
    public AuthenticationException(int statusCode, ErrorCode code, String rawCode, String message, String requestId, String method,
            String endpoint) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
    }
}
