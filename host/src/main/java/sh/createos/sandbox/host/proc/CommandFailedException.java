package sh.createos.sandbox.host.proc;

import java.io.IOException;
import java.util.List;

/** An external process exited non-zero or ran past its timeout; the message names the command line and its stderr. */
public class CommandFailedException extends IOException {
    private final List<String> command;
    private final int exitCode;
    private final String stderr;

    CommandFailedException(String message, List<String> command, int exitCode, String stderr) {
        super(message);
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
        this.stderr = stderr;
    }

    public List<String> command() {
        return command;
    }

    /** The exit code, or -1 when the process was killed because it ran past its timeout. */
    public int exitCode() {
        return exitCode;
    }

    public String stderr() {
        return stderr;
    }
}
