package sh.createos.sandbox.host.agent;

import java.io.IOException;

/** The agent did not answer a request within the connection's answer timeout; the request's stream was aborted. */
public class AgentTimeoutException extends IOException {
    public AgentTimeoutException(String message) {
        super(message);
    }
}
