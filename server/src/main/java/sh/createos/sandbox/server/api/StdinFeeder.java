package sh.createos.sandbox.server.api;

import java.io.IOException;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.ExecSession;

/**
 * Writes an exec's {@code stdin} on its own virtual thread, then closes it (EOF), while the caller reads the
 * output: a command that answers while reading (cat, sha256sum of a pipe) never deadlocks on full windows.
 */
final class StdinFeeder {
    private static final Logger log = LoggerFactory.getLogger(StdinFeeder.class);
    private static final int CHUNK = 32 * 1024;

    private StdinFeeder() {}

    /** Does nothing when {@code bytes} is null (the command was started with stdin at /dev/null). */
    static void start(ExecSession session, byte[] bytes) {
        if (bytes == null) {
            return;
        }
        Thread.ofVirtual().name("exec-stdin " + session.pid()).start(() -> {
            try (OutputStream in = session.stdin()) {
                for (int off = 0; off < bytes.length; off += CHUNK) {
                    in.write(bytes, off, Math.min(CHUNK, bytes.length - off));
                }
            } catch (IOException e) {
                // The command exited without reading everything (head -c1): what it did read is what counts.
                log.debug("stdin of exec {} ended early: {}", session.pid(), e.toString());
            }
        });
    }
}
