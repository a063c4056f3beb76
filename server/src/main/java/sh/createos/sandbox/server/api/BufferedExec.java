package sh.createos.sandbox.server.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExecStartException;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.model.ExecResponse;

/**
 * A buffered exec: runs to the end and captures stdout and stderr, each up to {@link #MAX_CAPTURE} bytes (the
 * rest is read and dropped, so a chatty command neither blocks nor exhausts the server's memory).
 */
final class BufferedExec {
    static final int MAX_CAPTURE = 16 * 1024 * 1024;

    private BufferedExec() {}

    static ExecResponse.ExecResult run(AgentClient agent, ExecRequest request) throws IOException {
        return run(agent, request, null);
    }

    /** With {@code stdin} (null = none) written to the command and closed. */
    static ExecResponse.ExecResult run(AgentClient agent, ExecRequest request, byte[] stdin) throws IOException {
        try (ExecSession session = agent.exec(request)) {
            StdinFeeder.start(session, stdin);
            FutureTask<Capture> stderr = new FutureTask<>(() -> Capture.of(session.stderr()));
            Thread.ofVirtual().name("exec-stderr").start(stderr);
            Capture stdout = Capture.of(session.stdout());
            ExitStatus status = session.waitFor();
            Capture err = stderr.get();
            String truncated = stdout.truncated || err.truncated
                    ? "output truncated: at most " + MAX_CAPTURE + " bytes of each stream are kept" : null;
            return new ExecResponse.ExecResult(stdout.text(), err.text(), status.code(), truncated);
        } catch (ExecStartException e) {
            return new ExecResponse.ExecResult("", "", ExecRoutes.START_FAILED_EXIT, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + request.argv());
        } catch (ExecutionException e) {
            throw new IOException("reading stderr of " + request.argv() + " failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    private record Capture(ByteArrayOutputStream bytes, boolean truncated) {
        static Capture of(InputStream in) throws IOException {
            ByteArrayOutputStream kept = new ByteArrayOutputStream();
            byte[] buffer = new byte[32 * 1024];
            boolean truncated = false;
            for (int n; (n = in.read(buffer)) >= 0; ) {
                int room = MAX_CAPTURE - kept.size();
                kept.write(buffer, 0, Math.min(n, room));
                truncated |= n > room;
            }
            return new Capture(kept, truncated);
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
