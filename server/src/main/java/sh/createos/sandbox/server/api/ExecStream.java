package sh.createos.sandbox.server.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExecStartException;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.model.ExecStreamFrame;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.http.Exchange;

/**
 * A streamed exec: one JSON object per line, flushed as output arrives, a heartbeat every 5 s, then exactly one
 * {@code exit_code} frame. When the client goes away (a write fails) the command's process tree is killed.
 */
final class ExecStream {
    private static final Logger log = LoggerFactory.getLogger(ExecStream.class);
    static final long HEARTBEAT_MS = 5000;
    private static final ObjectMapper JSON = Json.mapper();

    private final OutputStream out;
    private final ExecSession session;
    private volatile boolean clientGone;

    private ExecStream(OutputStream out, ExecSession session) {
        this.out = out;
        this.session = session;
    }

    static void run(Exchange ex, AgentClient agent, ExecRequest request) throws IOException, InterruptedException {
        run(ex, agent, request, null);
    }

    /** With {@code stdin} (null = none) written to the command and closed. */
    static void run(Exchange ex, AgentClient agent, ExecRequest request, byte[] stdin)
            throws IOException, InterruptedException {
        ExecSession session;
        try {
            session = agent.exec(request);
        } catch (ExecStartException e) {
            try (OutputStream out = ex.stream(200, "application/x-ndjson", -1)) {
                ExecStream failed = new ExecStream(out, null);
                failed.write(ExecStreamFrame.error(e.getMessage()));
                failed.write(ExecStreamFrame.exit(ExecRoutes.START_FAILED_EXIT));
            }
            return;
        }
        StdinFeeder.start(session, stdin);
        try (session; OutputStream out = ex.stream(200, "application/x-ndjson", -1)) {
            new ExecStream(out, session).pump();
        }
    }

    private void pump() throws IOException, InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        Thread stdout = forward(session.stdout(), ExecStreamFrame::stdout, "stdout");
        Thread stderr = forward(session.stderr(), ExecStreamFrame::stderr, "stderr");
        Thread heartbeat = Thread.ofVirtual().name("exec-heartbeat").start(() -> {
            try {
                while (!done.await(HEARTBEAT_MS, TimeUnit.MILLISECONDS)) {
                    write(ExecStreamFrame.heartbeat());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            ExitStatus status = session.waitFor();
            stdout.join();
            stderr.join();
            done.countDown();
            heartbeat.join();
            write(ExecStreamFrame.exit(status.code()));
        } catch (IOException agentLost) {
            // The status is already 200: the failure can only be told in-band.
            log.warn("streamed exec lost its agent: {}", agentLost.toString());
            write(ExecStreamFrame.error("the sandbox agent failed: " + agentLost.getMessage()));
        } finally {
            done.countDown();
        }
        if (clientGone) {
            throw new IOException("client disconnected during the streamed exec");
        }
    }

    private Thread forward(InputStream in, Function<String, ExecStreamFrame> frame, String name) {
        return Thread.ofVirtual().name("exec-" + name).start(() -> {
            // The reader keeps a multi-byte character that is split across reads whole for the next frame.
            try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                char[] buffer = new char[8192];
                for (int n; (n = reader.read(buffer)) >= 0; ) {
                    if (n > 0) {
                        write(frame.apply(new String(buffer, 0, n)));
                    }
                }
            } catch (IOException e) {
                if (!clientGone) {
                    log.warn("reading {} of a streamed exec failed: {}", name, e.toString());
                }
            }
        });
    }

    /** Writes one frame and flushes it; the first failed write means the client is gone: kill the command. */
    private synchronized void write(ExecStreamFrame frame) {
        if (clientGone) {
            return;
        }
        try {
            byte[] line = JSON.writeValueAsBytes(frame);
            byte[] withNewline = new byte[line.length + 1];
            System.arraycopy(line, 0, withNewline, 0, line.length);
            withNewline[line.length] = '\n';
            out.write(withNewline);
            out.flush();
        } catch (IOException e) {
            clientGone = true;
            if (session != null) {
                try {
                    session.kill();
                } catch (IOException killFailed) {
                    log.warn("killing the command of a disconnected stream failed: {}", killFailed.toString());
                }
            }
        }
    }
}
