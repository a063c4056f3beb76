package sh.createos.sandbox.model;

/** Data of a buffered exec: the captured result and the wall time in milliseconds. */
public record ExecResponse(ExecResult result, long execMs) {

    /** {@code error} is set only when the agent could not run the command at all. */
    public record ExecResult(String stdout, String stderr, int exitCode, String error) {}
}
