package sh.createos.sandbox.model;

/** One NDJSON line of a streamed exec; only the keys that are set are written. */
public record ExecStreamFrame(String stdout, String stderr, Integer exitCode, String error, Boolean hb) {
    public static ExecStreamFrame stdout(String text) {
        return new ExecStreamFrame(text, null, null, null, null);
    }

    public static ExecStreamFrame stderr(String text) {
        return new ExecStreamFrame(null, text, null, null, null);
    }

    public static ExecStreamFrame exit(int code) {
        return new ExecStreamFrame(null, null, code, null, null);
    }

    public static ExecStreamFrame error(String message) {
        return new ExecStreamFrame(null, null, null, message, null);
    }

    public static ExecStreamFrame heartbeat() {
        return new ExecStreamFrame(null, null, null, null, true);
    }
}
