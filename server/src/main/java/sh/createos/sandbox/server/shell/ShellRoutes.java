package sh.createos.sandbox.server.shell;

import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.io.Connection;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Exchange;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;
import sh.createos.sandbox.server.tokens.BrowserTickets;
import sh.createos.sandbox.server.tunnel.ConnectionLimits;
import sh.createos.sandbox.server.tunnel.UpgradeRequests;

/**
 * The keyless shells: {@code POST /v1/sandboxes/{id}/shell} (HTTP Upgrade {@code tcp-tunnel}, the CLI's
 * protocol, interactive-api.md §2) and {@code GET …/shell-ws} (WebSocket, §3), plus
 * {@code POST …/shell-ws/ticket} for browsers. Every check and the shell's start happen before the 101; an open
 * shell holds its sandbox busy (no idle auto-pause) and at most {@link #MAX_SHELLS_PER_SANDBOX} run at once.
 */
public final class ShellRoutes {
    static final int MAX_SHELLS_PER_SANDBOX = 16;
    public static final String WS_SUBPROTOCOL = "createos.pty.v1";

    private ShellRoutes() {}

    public static void register(Router router, SandboxService service, BrowserTickets tickets) {
        ConnectionLimits limits = new ConnectionLimits("shell sessions", MAX_SHELLS_PER_SANDBOX);

        router.post("/v1/sandboxes/{id}/shell", true, ex -> {
            String token = UpgradeRequests.token(ex, Set.of(UpgradeRequests.CLI_TOKEN), 400);
            String term = ShellSession.term(ex.query("term"));
            Opened opened = open(service, limits, ex, term, 24, 80);
            String what = opened.sandboxId + " pid " + opened.shell.pid();
            ex.switchProtocols(token, (endPoint, executor) -> {
                ShellConnection connection = new ShellConnection(endPoint, executor, opened.shell,
                        () -> service.activity().touch(opened.sandboxId), what);
                connection.addEventListener(new Connection.Listener() {
                    @Override
                    public void onClosed(Connection c) {
                        opened.end.run();
                    }
                });
                return connection;
            });
        });

        router.post("/v1/sandboxes/{id}/shell-ws/ticket", true, ex -> {
            RunningSandbox running = service.running(ex.user(), ex.param("id"));
            BrowserTickets.Issued issued = tickets.issue(running.sandbox().id(), ex.user().id());
            ex.ok(Map.of("token", issued.token(), "expires_at", issued.expiresAt().toString()));
        });

        router.get("/v1/sandboxes/{id}/shell-ws", true, ex -> {
            if (ex.header("Upgrade") == null || !"websocket".equalsIgnoreCase(ex.header("Upgrade").trim())) {
                throw new ApiException(426, "UPGRADE_REQUIRED", "shell-ws is a WebSocket: send Upgrade: websocket");
            }
            String term = ShellSession.term(ex.query("term"));
            Opened opened = open(service, limits, ex, term, size(ex, "rows"), size(ex, "cols"));
            String what = opened.sandboxId + " pid " + opened.shell.pid();
            boolean upgraded;
            try {
                upgraded = ex.upgradeToWebSocket((request, response, callback) -> {
                    if (request.hasSubProtocol(WS_SUBPROTOCOL)) {
                        response.setAcceptedSubProtocol(WS_SUBPROTOCOL);
                    }
                    return new ShellWebSocket(opened.shell, () -> service.activity().touch(opened.sandboxId),
                            opened.end, what);
                });
            } catch (RuntimeException e) {
                opened.shell.hangUp();
                opened.end.run();
                throw e;
            }
            if (!upgraded) {
                opened.shell.hangUp();
                opened.end.run();
                throw ApiException.badRequest("not a valid WebSocket upgrade request");
            }
        });
    }

    /** A started shell and what releases its slot and its hold on the sandbox. */
    private record Opened(String sandboxId, ShellSession shell, Runnable end) {}

    private static Opened open(SandboxService service, ConnectionLimits limits, Exchange ex, String term, int rows,
            int cols) {
        RunningSandbox running = service.running(ex.user(), ex.param("id"));
        String id = running.sandbox().id();
        ConnectionLimits.Slot slot = limits.acquire(id);
        var busy = service.activity().busy(id);
        try {
            ShellSession shell = ShellSession.start(running.agent(), running.sandbox().envs(), term, rows, cols);
            return new Opened(id, shell, () -> {
                busy.close();
                slot.run();
            });
        } catch (RuntimeException e) {
            busy.close();
            slot.run();
            throw e;
        }
    }

    /** {@code ?rows=} / {@code ?cols=}: absent = the default, otherwise 1..65535. */
    private static int size(Exchange ex, String name) {
        String value = ex.query(name);
        if (value == null || value.isEmpty()) {
            return 0;
        }
        if (!value.matches("[0-9]{1,5}") || Integer.parseInt(value) < 1 || Integer.parseInt(value) > 65535) {
            throw ApiException.badRequest(name + " must be a number from 1 to 65535, not '" + value + "'");
        }
        return Integer.parseInt(value);
    }
}
