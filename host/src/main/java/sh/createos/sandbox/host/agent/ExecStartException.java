package sh.createos.sandbox.host.agent;

/** The agent could not start the process (missing binary, bad cwd, unknown user, …). */
public class ExecStartException extends AgentException {
    public ExecStartException(String message) {
        super("start_failed", message);
    }
}
