package sh.createos.sandbox.server.process;

import java.io.IOException;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.sandbox.SandboxService;

/** The agent's proc_* failure codes as the statuses and codes of interactive-api.md §5. */
final class ProcessErrors {
    private ProcessErrors() {}

    static Exception map(SandboxService service, String sandboxId, IOException e) {
        if (!(e instanceof AgentException agent)) {
            return service.explainLostAgent(sandboxId, e);
        }
        String message = agentMessage(agent);
        return switch (agent.code()) {
            case "ENOENT" -> api(404, ErrorCode.PROCESS_NOT_FOUND, "process not found");
            case "start_failed" -> api(400, ErrorCode.SPAWN_FAILED, message);
            case "process_limit" -> api(409, ErrorCode.PROCESS_LIMIT, message);
            case "not_a_pipe" -> api(409, ErrorCode.NOT_A_PIPE, "the process is a PTY: it has no separate stdin");
            case "not_a_pty" -> api(409, ErrorCode.NOT_A_PTY, "the process has no terminal");
            case "stdin_closed" -> api(409, ErrorCode.STDIN_CLOSED, "stdin is closed");
            case "exited" -> api(409, ErrorCode.PROCESS_EXITED, "the process has finished");
            case "EINVAL", "bad_request" -> api(400, ErrorCode.VALIDATION, message);
            case "EFBIG" -> api(413, ErrorCode.PAYLOAD_TOO_LARGE, message);
            case "EAGAIN", "EBUSY" -> api(429, ErrorCode.RATE_LIMITED, message);
            default -> e;
        };
    }

    static ApiException api(int status, ErrorCode code, String message) {
        return new ApiException(status, code.wire(), message);
    }

    /** The agent's own text, without the "proc_start [...]: start_failed: " prefix the client adds. */
    private static String agentMessage(AgentException e) {
        String m = e.getMessage();
        String marker = e.code() + ": ";
        int at = m.indexOf(marker);
        return at < 0 ? m : m.substring(at + marker.length());
    }
}
