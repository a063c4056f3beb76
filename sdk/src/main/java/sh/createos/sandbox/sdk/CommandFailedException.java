package sh.createos.sandbox.sdk;

/** {@link Sandbox#sh(String)} ran a script that exited non-zero; {@link #result()} has its output. */
public class CommandFailedException extends SandboxException {
    private static final long serialVersionUID = 1L;
    private final transient ExecResult result;

    /** A failed command and what it printed. */
    public CommandFailedException(String command, ExecResult result) {
        super("command exited with " + result.exitCode() + ": " + command
                + (result.stderr().isEmpty() ? "" : " (stderr: " + abbreviate(result.stderr()) + ")"));
        this.result = result;
    }

    /** Exit code, stdout and stderr of the command. */
    public ExecResult result() {
        return result;
    }

    /** The command's exit code. */
    public int exitCode() {
        return result.exitCode();
    }

    private static String abbreviate(String text) {
        String trimmed = text.strip();
        return trimmed.length() <= 500 ? trimmed : trimmed.substring(0, 500) + "…";
    }
}
