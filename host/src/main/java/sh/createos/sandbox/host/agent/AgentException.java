package sh.createos.sandbox.host.agent;

import java.io.IOException;

/** The agent reported a failure: {@link #code()} is an errno name ("ENOENT", …), "start_failed", "bad_request" or "unknown_op". */
public class AgentException extends IOException {
    private final String code;

    public AgentException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
