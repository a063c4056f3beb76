package sh.createos.sandbox.server.remote;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;

/**
 * How failures cross the gRPC boundary in both directions: a {@link DomainException} travels as its
 * {@link ErrorCode} in the {@code x-error-code} trailer, an engine failure ({@link IOException}) as INTERNAL with its
 * message, a call in the wrong state as FAILED_PRECONDITION; a daemon that does not answer is HOST_UNREACHABLE.
 */
final class RpcErrors {
    static final Metadata.Key<String> ERROR_CODE = Metadata.Key.of("x-error-code", Metadata.ASCII_STRING_MARSHALLER);

    private RpcErrors() {}

    static StatusRuntimeException toStatus(Throwable failure) {
        return switch (failure) {
            case DomainException domain -> {
                Metadata trailers = new Metadata();
                trailers.put(ERROR_CODE, domain.errorCode().wire());
                yield Status.ABORTED.withDescription(domain.getMessage()).asRuntimeException(trailers);
            }
            case IOException io -> Status.INTERNAL.withDescription(io.getMessage()).asRuntimeException();
            case IllegalStateException bad ->
                    Status.FAILED_PRECONDITION.withDescription(bad.getMessage()).asRuntimeException();
            case IllegalArgumentException bad ->
                    Status.FAILED_PRECONDITION.withDescription(bad.getMessage()).asRuntimeException();
            default -> Status.UNKNOWN.withDescription(String.valueOf(failure)).withCause(failure).asRuntimeException();
        };
    }

    /** The exception the {@code Host} contract names, for a failed call to host {@code hostId}. */
    static Exception fromStatus(String hostId, StatusRuntimeException e) {
        Status status = e.getStatus();
        Metadata trailers = e.getTrailers();
        String code = trailers == null ? null : trailers.get(ERROR_CODE);
        if (code != null) {
            return new DomainException(ErrorCode.fromWire(code).orElse(ErrorCode.INTERNAL), status.getDescription());
        }
        return switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED -> new DomainException(ErrorCode.HOST_UNREACHABLE,
                    "host " + hostId + " does not answer: " + status.getCode() + " " + status.getDescription(), e);
            case FAILED_PRECONDITION -> new IllegalStateException(status.getDescription(), e);
            default -> new IOException("host " + hostId + ": " + status.getDescription(), e);
        };
    }
}
