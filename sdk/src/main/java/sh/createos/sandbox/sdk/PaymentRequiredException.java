package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/** HTTP 402: the account is out of credit. */
public class PaymentRequiredException extends SandboxApiException {
    private static final long serialVersionUID = 1L;

    /** See {@link SandboxApiException#SandboxApiException}. */
    public PaymentRequiredException(int statusCode, ErrorCode code, String rawCode, String message, String requestId, String method,
            String endpoint) {
        super(statusCode, code, rawCode, message, requestId, method, endpoint);
    }
}
