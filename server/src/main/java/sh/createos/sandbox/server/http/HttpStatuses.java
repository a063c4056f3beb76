package sh.createos.sandbox.server.http;

import sh.createos.sandbox.model.ErrorCode;

/** The one place that decides which HTTP status answers each {@link ErrorCode} (spec §2.4). */
public final class HttpStatuses {
    private HttpStatuses() {}

    public static int of(ErrorCode code) {
        return switch (code) {
            case VALIDATION, DISK_TOO_LARGE, SPAWN_FAILED -> 400;
            case UNAUTHORIZED -> 401;
            case PERMISSION_DENIED, SANDBOX_LIMIT -> 403;
            case NOT_FOUND, PROCESS_NOT_FOUND -> 404;
            case METHOD_NOT_ALLOWED -> 405;
            case WAIT_TIMEOUT -> 408;
            case INVALID_STATE, NAME_TAKEN, NETWORK_IN_USE, DISK_IN_USE, ALREADY_ATTACHED, IDEMPOTENCY_MISMATCH,
                    PROCESS_LIMIT, NOT_A_PIPE, NOT_A_PTY, STDIN_CLOSED, PROCESS_EXITED, SNAPSHOT_INCOMPATIBLE -> 409;
            case PAYLOAD_TOO_LARGE -> 413;
            case UPGRADE_REQUIRED -> 426;
            case RATE_LIMITED -> 429;
            case PORT_UNREACHABLE -> 502;
            case UNAVAILABLE, HOST_UNREACHABLE -> 503;
            case NO_SPACE -> 507;
            case BOOT_FAILED, PAUSE_FAILED, RESUME_FAILED, FORK_FAILED, SNAPSHOT_UNREADABLE, AGENT_ERROR, INTERNAL -> 500;
        };
    }
}
