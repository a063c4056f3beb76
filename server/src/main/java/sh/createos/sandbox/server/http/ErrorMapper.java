package sh.createos.sandbox.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.model.Envelope;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.NameTakenException;

/** Turns any failure of a handler into the status and JSend body the spec documents. */
public final class ErrorMapper {
    private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

    private ErrorMapper() {}

    public record Mapped(int status, Envelope<?> body) {}

    public static Mapped map(Throwable failure, String requestId) {
        Failure f = toFailure(failure, requestId);
        if (f.status() >= 500) {
            return new Mapped(f.status(), Envelope.error(f.message(), f.status()));
        }
        Map<String, String> data = new LinkedHashMap<>();
        data.put("message", f.message());
        data.put("code", f.code());
        return new Mapped(f.status(), Envelope.fail(data));
    }

    private record Failure(int status, String code, String message) {}

    private static Failure toFailure(Throwable failure, String requestId) {
        return switch (failure) {
            case ApiException api -> new Failure(api.status(), api.code(), api.getMessage());
            case DomainException domain -> new Failure(HttpStatuses.of(domain.errorCode()), domain.wireCode(),
                    domain.getMessage());
            case NameTakenException taken -> new Failure(HttpStatuses.of(ErrorCode.NAME_TAKEN),
                    ErrorCode.NAME_TAKEN.wire(), taken.getMessage());
            case JsonProcessingException json -> new Failure(HttpStatuses.of(ErrorCode.VALIDATION),
                    ErrorCode.VALIDATION.wire(), describe(json));
            default -> {
                log.error("request {} failed", requestId, failure);
                yield new Failure(500, ErrorCode.INTERNAL.wire(), "internal error (request id " + requestId + "): "
                        + failure.getMessage());
            }
        };
    }

    private static String describe(JsonProcessingException e) {
        if (e instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            String field = mismatch.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining("."));
            String expected = mismatch.getTargetType() == null ? "another type"
                    : mismatch.getTargetType().getSimpleName();
            return "invalid value for field '" + field + "': expected " + expected;
        }
        if (e instanceof JsonMappingException mapping && mapping.getCause() instanceof IllegalArgumentException bad) {
            return "invalid request body: " + bad.getMessage();
        }
        return "malformed JSON body: " + e.getOriginalMessage();
    }
}
