package sh.createos.sandbox.server.shell;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.FutureCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.http.UpgradedConnection;

/**
 * What a {@code /shell} connection becomes after its 101 (interactive-api.md §2): framed input and resizes from
 * the client into the PTY, raw PTY output back, one virtual thread per direction. The shell's exit flushes the
 * output and closes the connection (no exit status is sent, as the CLI expects none); the client's close hangs
 * the shell's session up; a lost agent (pause, destroy) closes the connection.
 */
final class ShellConnection extends UpgradedConnection {
    private static final Logger log = LoggerFactory.getLogger(ShellConnection.class);

    private final ShellSession shell;
    private final Runnable onTraffic;

    ShellConnection(EndPoint endPoint, Executor executor, ShellSession shell, Runnable onTraffic, String what) {
        super(endPoint, executor, what);
        this.shell = shell;
        this.onTraffic = onTraffic;
    }

    @Override
    protected String kind() {
        return "shell";
    }

    @Override
    protected void fromClient() {
        try {
            ShellFrames.pump(new EndPointInput(getEndPoint(), early()), new ShellFrames.Sink() {
                @Override
                public void data(byte[] bytes, int off, int len) throws IOException {
                    shell.input(bytes, off, len);
                    onTraffic.run();
                }

                @Override
                public void resize(int rows, int cols) throws IOException {
                    shell.resize(rows, cols);
                }
            });
        } catch (IOException | RuntimeException e) {
            if (!shell.exited()) {
                log.debug("shell {} input ended: {}", what(), e.toString());
            }
        }
        if (!shell.exited()) {
            shell.hangUp(); // the client left (or broke the framing): end the session
        }
        getEndPoint().close();
    }

    @Override
    protected void toClient() {
        InputStream output = shell.output();
        try {
            byte[] bytes = new byte[32 * 1024];
            boolean clientGone = false;
            for (int n; (n = output.read(bytes)) >= 0; ) {
                if (n > 0 && !clientGone) {
                    FutureCallback written = new FutureCallback();
                    getEndPoint().write(written, ByteBuffer.wrap(bytes, 0, n));
                    try {
                        written.get();
                        onTraffic.run();
                    } catch (java.util.concurrent.ExecutionException e) {
                        // The client left: keep draining while fromClient hangs the session up (aborting the
                        // exec here would kill processes the user detached).
                        clientGone = true;
                    }
                }
            }
            if (clientGone) {
                return;
            }
            shell.exitStatus(10_000);
            shell.reapLeftovers();
            getEndPoint().shutdownOutput();
        } catch (Exception e) {
            log.debug("shell {} output ended: {}", what(), e.toString());
            shell.close();
        }
        getEndPoint().close();
    }
}
