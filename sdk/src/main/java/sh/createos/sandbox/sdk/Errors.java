package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.model.ErrorCode;

/** Maps an error response (status, JSend {@code fail}/{@code error} body) to the typed exception. */
final class Errors {
    private Errors() {}

    static SandboxApiException from(int status, HttpHeaders headers, byte[] body, String method, String endpoint,
            Duration retryAfter) {
        String message = null;
        String rawCode = null;
        if (headers.firstValue("Content-Type").orElse("").contains("json") && body.length > 0) {
            try {
                JsonNode envelope = Transport.JSON.readTree(body);
                JsonNode data = envelope.path("data");
                if (data.isTextual()) {
                    message = data.asText();
                } else if (data.isObject()) {
                    message = data.hasNonNull("message") ? data.get("message").asText() : joined(data);
                    rawCode = data.path("code").isTextual() ? data.get("code").asText() : null;
                }
                if (message == null && envelope.path("message").isTextual()) {
                    message = envelope.get("message").asText();
                }
                if (rawCode == null && envelope.path("code").isTextual()) {
                    rawCode = envelope.get("code").asText();
                }
            } catch (java.io.IOException | RuntimeException notJson) {
                message = null;
            }
        }
        if (message == null) {
            message = body.length > 0 && body.length < 500 ? new String(body, StandardCharsets.UTF_8).strip()
                    : "createos-sandbox request failed (" + status + ")";
        }
        ErrorCode code = ErrorCode.fromWire(rawCode).orElse(generic(status));
        String requestId = Transport.requestId(headers);
        switch (status) {
            case 400:
            case 422:
                return new ValidationException(status, code, rawCode, message, requestId, method, endpoint);
            case 401:
                return new AuthenticationException(status, code, rawCode, message, requestId, method, endpoint);
            case 402:
                return new PaymentRequiredException(status, code, rawCode, message, requestId, method, endpoint);
            case 403:
                return new PermissionDeniedException(status, code, rawCode, message, requestId, method, endpoint);
            case 404:
                return new NotFoundException(status, code, rawCode, message, requestId, method, endpoint);
            case 409:
                return new ConflictException(status, code, rawCode, message, requestId, method, endpoint);
            case 429:
                return new RateLimitException(status, code, rawCode, message, requestId, method, endpoint,
                        retryAfter);
            default:
                if (status >= 500) {
                    return new ServerException(status, code, rawCode, message, requestId, method, endpoint);
                }
                return new SandboxApiException(status, code, rawCode, message, requestId, method, endpoint);
        }
    }

    /** The code a status implies when the envelope names none of ours. */
    static ErrorCode generic(int status) {
        switch (status) {
            case 400:
            case 422:
                return ErrorCode.VALIDATION;
            case 401:
                return ErrorCode.UNAUTHORIZED;
            case 403:
                return ErrorCode.PERMISSION_DENIED;
            case 404:
                return ErrorCode.NOT_FOUND;
            case 405:
                return ErrorCode.METHOD_NOT_ALLOWED;
            case 409:
                return ErrorCode.INVALID_STATE;
            case 413:
                return ErrorCode.PAYLOAD_TOO_LARGE;
            case 426:
                return ErrorCode.UPGRADE_REQUIRED;
            case 429:
                return ErrorCode.RATE_LIMITED;
            case 502:
                return ErrorCode.HOST_UNREACHABLE;
            case 503:
                return ErrorCode.UNAVAILABLE;
            default:
                return status >= 400 && status < 500 ? ErrorCode.VALIDATION : ErrorCode.INTERNAL;
        }
    }

    private static String joined(JsonNode data) {
        List<String> parts = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = data.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("code")) {
                parts.add(e.getKey() + ": " + e.getValue().asText());
            }
        }
        return parts.isEmpty() ? null : String.join(", ", parts);
    }
}
