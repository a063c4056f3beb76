package sh.createos.sandbox.sdk;

/**
 * What a finished command printed and how it exited.
 *
 * @param exitCode the exit status
 * @param stdout everything written to stdout
 * @param stderr everything written to stderr
 * @param execMs wall time in the guest, in milliseconds
 */
public record ExecResult(int exitCode, String stdout, String stderr, double execMs) {
    /** True for exit status 0. */
    public boolean ok() {
        return exitCode == 0;
    }
}
