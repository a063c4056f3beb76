package sh.createos.sandbox.cli;

/** A failure the CLI itself detected, with the exit code it maps to. */
public final class CliException extends RuntimeException {
    final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }
}
