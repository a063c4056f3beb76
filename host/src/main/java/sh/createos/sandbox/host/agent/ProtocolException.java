package sh.createos.sandbox.host.agent;

import java.io.IOException;

/** The agent sent something the protocol does not allow; the connection cannot continue. */
final class ProtocolException extends IOException {
    ProtocolException(String message) {
        super(message);
    }
}
