package sh.createos.sandbox.cli;

import sh.createos.sandbox.sdk.AuthenticationException;
import sh.createos.sandbox.sdk.ConflictException;
import sh.createos.sandbox.sdk.NotFoundException;
import sh.createos.sandbox.sdk.PermissionDeniedException;
import sh.createos.sandbox.sdk.RequestTimeoutException;
import sh.createos.sandbox.sdk.ValidationException;
import sh.createos.sandbox.sdk.WaitTimeoutException;

/** The documented exit codes; {@code exec} and {@code shell} return the remote command's own code instead. */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;
    public static final int AUTH = 4;
    public static final int NOT_FOUND = 5;
    public static final int CONFLICT = 6;
    public static final int TIMEOUT = 8;

    private ExitCodes() {}

    static int of(Throwable e) {
        if (e instanceof CliException c) {
            return c.exitCode;
        }
        if (e instanceof AuthenticationException || e instanceof PermissionDeniedException) {
            return AUTH;
        }
        if (e instanceof NotFoundException) {
            return NOT_FOUND;
        }
        if (e instanceof ConflictException) {
            return CONFLICT;
        }
        if (e instanceof ValidationException) {
            return USAGE;
        }
        if (e instanceof WaitTimeoutException || e instanceof RequestTimeoutException) {
            return TIMEOUT;
        }
        return FAILURE;
    }

    static String codeName(int exit) {
        return switch (exit) {
            case USAGE -> "usage";
            case AUTH -> "auth";
            case NOT_FOUND -> "not_found";
            case CONFLICT -> "conflict";
            case TIMEOUT -> "timeout";
            default -> "failure";
        };
    }
}
