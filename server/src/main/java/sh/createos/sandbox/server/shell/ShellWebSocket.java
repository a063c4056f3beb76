package sh.createos.sandbox.server.shell;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.model.Json;

/**
 * The browser side of a shell (interactive-api.md §3): binary frames are input, text frames JSON control
 * ({@code resize}, {@code input}); PTY output goes out as binary frames and the exit as a last text frame
 * {@code {"type":"exit","exit_code":N}} before a 1000 close. A ping every 30 s; the container's 60 s idle timeout
 * closes a peer that stopped answering. Closing the socket hangs the shell up, as on {@code /shell}.
 */
public final class ShellWebSocket implements Session.Listener.AutoDemanding {
    private static final Logger log = LoggerFactory.getLogger(ShellWebSocket.class);
    private static final ObjectMapper JSON = Json.mapper();
    private static final ScheduledExecutorService PINGS = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("shell-ws-ping").factory());
    static final long PING_SECONDS = 30;

    private final ShellSession shell;
    private final Runnable onTraffic;
    private final Runnable onEnd;
    private final String what;
    private volatile Session session;
    private volatile java.util.concurrent.ScheduledFuture<?> pinger;

    ShellWebSocket(ShellSession shell, Runnable onTraffic, Runnable onEnd, String what) {
        this.shell = shell;
        this.onTraffic = onTraffic;
        this.onEnd = onEnd;
        this.what = what;
    }

    /** Jetty calls the listener methods through method handles: they must be public, and so must the class. */
    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        pinger = PINGS.scheduleAtFixedRate(() -> session.sendPing(ByteBuffer.allocate(0), Callback.NOOP),
                PING_SECONDS, PING_SECONDS, TimeUnit.SECONDS);
        Thread.ofVirtual().name("shell-ws-out " + what).start(this::shellToClient);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        try {
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            shell.input(bytes, 0, bytes.length);
            onTraffic.run();
            callback.succeed();
        } catch (IOException e) {
            callback.fail(e);
        }
    }

    @Override
    public void onWebSocketText(String message) {
        try {
            JsonNode control = JSON.readTree(message);
            String type = control.path("type").asText("");
            switch (type) {
                case "resize" -> shell.resize(control.path("rows").asInt(0), control.path("cols").asInt(0));
                case "input" -> {
                    byte[] bytes = control.path("data").asText("").getBytes(StandardCharsets.UTF_8);
                    shell.input(bytes, 0, bytes.length);
                    onTraffic.run();
                }
                default -> { } // unknown types are ignored (interactive-api.md §3)
            }
        } catch (IOException e) {
            log.debug("shell {}: control message ignored: {}", what, e.toString());
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        end();
        if (!shell.exited()) {
            Thread.ofVirtual().name("shell-ws-hangup " + what).start(shell::hangUp);
        }
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        log.debug("shell {} websocket failed: {}", what, cause.toString());
        end();
        if (!shell.exited()) {
            Thread.ofVirtual().name("shell-ws-hangup " + what).start(shell::hangUp);
        }
    }

    private void shellToClient() {
        InputStream output = shell.output();
        try {
            byte[] bytes = new byte[32 * 1024];
            boolean clientGone = false;
            for (int n; (n = output.read(bytes)) >= 0; ) {
                if (n > 0 && !clientGone) {
                    try {
                        send(ByteBuffer.wrap(bytes, 0, n).slice());
                        onTraffic.run();
                    } catch (ExecutionException e) {
                        // The socket closed: keep draining while the close hangs the session up (which must
                        // not abort the exec: that would kill processes the user detached).
                        clientGone = true;
                    }
                }
            }
            if (clientGone) {
                return;
            }
            ExitStatus status = shell.exitStatus(10_000);
            shell.reapLeftovers();
            Map<String, Object> exit = new LinkedHashMap<>();
            exit.put("type", "exit");
            exit.put("exit_code", status.code());
            if (status.signal() != null) {
                exit.put("signal", "SIG" + status.signal());
            }
            Callback.Completable text = new Callback.Completable();
            session.sendText(JSON.writeValueAsString(exit), text);
            text.get();
            session.close(StatusCode.NORMAL, "exit", Callback.NOOP);
        } catch (Exception e) {
            if (session.isOpen()) {
                log.debug("shell {} output ended: {}", what, e.toString());
                session.close(StatusCode.SERVER_ERROR, "the shell's agent stream failed", Callback.NOOP);
            }
            shell.close();
        }
    }

    private void send(ByteBuffer bytes) throws InterruptedException, ExecutionException {
        Callback.Completable sent = new Callback.Completable();
        session.sendBinary(bytes, sent);
        sent.get();
    }

    private synchronized void end() {
        var p = pinger;
        if (p != null) {
            p.cancel(false);
        }
        onEnd.run();
    }
}
