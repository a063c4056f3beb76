package sh.createos.sandbox.server.tunnel;

import java.io.IOException;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.server.DomainException;

/**
 * Opening a TCP connection to a guest port through the agent's {@code dial} op: it reaches every port of the guest,
 * loopback-bound ones included, and does not depend on the guest's network (which the tenant controls).
 */
public final class GuestDial {
    public static final String GUEST_LOOPBACK = "127.0.0.1";

    private GuestDial() {}

    /** A port from a path or host name; 400 unless it is a whole number in 1..65535. */
    public static int port(String text) {
        if (text != null && text.matches("[0-9]{1,5}")) {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        }
        throw DomainException.invalid("port must be a number from 1 to 65535, not '" + text + "'");
    }

    /**
     * @throws PortRefusedException nothing listens on the port (or the guest refused it otherwise)
     * @throws IOException the agent channel failed
     */
    public static DialConnection open(AgentClient agent, String sandboxId, int port) throws IOException {
        try {
            return agent.dial(GUEST_LOOPBACK, port);
        } catch (AgentException e) {
            throw new PortRefusedException(sandboxId, port, e);
        }
    }

    /** The guest answered the dial with an error (ECONNREFUSED when nothing listens). */
    public static final class PortRefusedException extends IOException {
        private final String code;

        PortRefusedException(String sandboxId, int port, AgentException cause) {
            super(("ECONNREFUSED".equals(cause.code()) ? "nothing is listening on port " + port
                    : "port " + port + " cannot be reached (" + cause.code() + ": " + cause.getMessage() + ")")
                    + " in sandbox " + sandboxId, cause);
            this.code = cause.code();
        }

        public String code() {
            return code;
        }
    }
}
