package sh.createos.sandbox.sdk;

import sh.createos.sandbox.model.ErrorCode;

/**
 * The server answered with an error status. {@link #code()} is the envelope's machine code as the server's
 * {@link ErrorCode} (or the status's generic code when the envelope carries none of ours); {@link #rawCode()} is
 * the code exactly as sent. Subclasses name the status families.
 */
public class SandboxApiException extends SandboxException {
    private static final long serialVersionUID = 1L;
    private final int statusCode;
    private final ErrorCode code;
    private final String rawCode;
    private final String requestId;
    private final String method;
    private final String endpoint;

    /** An error response; {@code rawCode} and {@code requestId} may be null. */
    public SandboxApiException(int statusCode, ErrorCode code, String rawCode, String message, String requestId,
            String method, String endpoint) {
        super(message + " (" + method + " " + endpoint + " -> " + statusCode
                + (rawCode == null ? "" : " " + rawCode) + (requestId == null ? "" : ", request " + requestId)
                + ")");
        this.statusCode = statusCode;
        this.code = code;
        this.rawCode = rawCode;
        this.requestId = requestId;
        this.method = method;
        this.endpoint = endpoint;
    }

    /** The HTTP status. */
    public int statusCode() {
        return statusCode;
    }

    /** The domain's error code; never null. */
    public ErrorCode code() {
        return code;
    }

    /** The envelope's {@code code} as sent (may name a code this SDK predates), or null. */
    public String rawCode() {
        return rawCode;
    }

    /** The server's {@code X-Request-Id} for this request, or null. */
    public String requestId() {
        return requestId;
    }

    /** The HTTP method of the failed request. */
    public String method() {
        return method;
    }

    /** The path of the failed request, e.g. {@code /v1/sandboxes/sb_…/exec}. */
    public String endpoint() {
        return endpoint;
    }
}
