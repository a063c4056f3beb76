package sh.createos.sandbox.sdk;

/** One event of an {@link ExecStream}: output, the exit, an error, or a keep-alive. */
public sealed interface ExecEvent {
    /**
     * A chunk of stdout.
     *
     * @param data the text
     */
    record Stdout(String data) implements ExecEvent {}

    /**
     * A chunk of stderr.
     *
     * @param data the text
     */
    record Stderr(String data) implements ExecEvent {}

    /**
     * The command exited; the last event.
     *
     * @param exitCode its exit status
     */
    record Exit(int exitCode) implements ExecEvent {}

    /**
     * The command could not run or the stream broke; the last event.
     *
     * @param message what went wrong
     */
    record Error(String message) implements ExecEvent {}

    /** A keep-alive the server sends while the command is quiet. */
    record Heartbeat() implements ExecEvent {}
}
