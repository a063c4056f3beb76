package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/** HTTP 5xx: the server failed; 503 means nothing was done. */
public class ServerException extends SandboxApiException {
    private static final long serialVersionUID = 1L;

    /** See {@link SandboxApiException#SandboxApiException}. */
    public ServerException(int statusCode, ErrorCode code, String rawCode, String message, String requestId, String method,
            String endpoint) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
    }
}
