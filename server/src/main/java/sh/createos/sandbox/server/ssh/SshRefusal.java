package sh.createos.sandbox.server.ssh;

import java.io.IOException;

/** A logged-in connection that cannot reach its guest (paused without auto-pause, destroyed meanwhile, …). */
final class SshRefusal extends IOException {
    SshRefusal(String message) {
        super(message);
    }
}
