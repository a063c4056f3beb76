package sh.createos.sandbox.model;

import java.util.Optional;

/**
 * The machine-readable {@code code} of an error envelope ({@code data.code} of a JSend {@code fail}). The domain
 * throws these; the server's HTTP layer maps each to a status in one place, and the SDK and CLI read them back.
 * Add codes here, never as string literals elsewhere.
 */
public enum ErrorCode {
    /** A field or body is malformed or out of range. */
    VALIDATION,
    /** Missing, invalid or revoked credential. */
    UNAUTHORIZED,
    /** Authenticated but not allowed (a token used outside its scope, an operator-only call). */
    PERMISSION_DENIED,
    /** The caller's live-sandbox cap is reached. */
    SANDBOX_LIMIT,
    /** Unknown id or name, or a resource the caller does not own. */
    NOT_FOUND,
    /** The resource is not in a state that allows the call (pause when not running, fork when not paused…). */
    INVALID_STATE,
    /** A name already used by another resource of the same owner. */
    NAME_TAKEN,
    /** The sandbox already is a member of that network. */
    ALREADY_ATTACHED,
    /** A network that still has members. */
    NETWORK_IN_USE,
    /** A disk that is still attached. */
    DISK_IN_USE,
    /** A disk size larger than the host admits. */
    DISK_TOO_LARGE,
    /** The guest's disk is full. */
    NO_SPACE,
    /** Nothing listens on the guest port. */
    PORT_UNREACHABLE,
    /** The endpoint needs an HTTP Upgrade the request did not ask for. */
    UPGRADE_REQUIRED,
    /** The route exists, the method does not. */
    METHOD_NOT_ALLOWED,
    /** A body or an agent request over its size limit. */
    PAYLOAD_TOO_LARGE,
    /** An Idempotency-Key reused with a different request. */
    IDEMPOTENCY_MISMATCH,
    /** Too many requests: try again after Retry-After. */
    RATE_LIMITED,
    /** No host with capacity, or a feature that is not configured: nothing was done. */
    UNAVAILABLE,
    /** The sandbox's host does not answer. */
    HOST_UNREACHABLE,
    /** A boot that did not reach the agent. */
    BOOT_FAILED,
    /** A pause that failed: the sandbox runs on. */
    PAUSE_FAILED,
    /** A resume that failed: the sandbox stays paused. */
    RESUME_FAILED,
    /** A fork that failed: the child is failed, nothing of it is left. */
    FORK_FAILED,
    /** A paused sandbox's snapshot cannot be read. */
    SNAPSHOT_UNREADABLE,
    /** A paused sandbox's snapshot was taken on a CPU (accelerator, CPU model, QEMU) its host no longer offers. */
    SNAPSHOT_INCOMPATIBLE,
    /** The guest agent answered a request with an error the caller cannot act on. */
    AGENT_ERROR,
    /** Managed processes (interactive-api.md §5): unknown, evicted or foreign process id. */
    PROCESS_NOT_FOUND,
    /** The process could not be started (no such program, bad cwd…). */
    SPAWN_FAILED,
    /** Too many unfinished processes in the sandbox. */
    PROCESS_LIMIT,
    /** A pipe-only call on a PTY process. */
    NOT_A_PIPE,
    /** A PTY-only call on a pipe process. */
    NOT_A_PTY,
    /** Input after the process's stdin was closed. */
    STDIN_CLOSED,
    /** A call that needs a live process on one that has finished. */
    PROCESS_EXITED,
    /** A long poll that ended before its condition held. */
    WAIT_TIMEOUT,
    /** Anything else that went wrong on the server. */
    INTERNAL;

    /** The code as it is written on the wire. */
    public String wire() {
        return name();
    }

    /** The code of an envelope, if it is one of ours. */
    public static Optional<ErrorCode> fromWire(String code) {
        if (code == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(code));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
