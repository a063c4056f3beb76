package sh.createos.sandbox.server.tunnel;

import java.util.Arrays;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * {@code POST /v1/sandboxes/{id}/tunnel/{port}} with {@code Connection: Upgrade} and {@code Upgrade: tcp}: answers
 * {@code 101 Switching Protocols} ({@code Upgrade: tcp}) and from then on the connection carries the raw bytes of a
 * TCP connection to that guest port (loopback-bound ones too). Errors come before the upgrade, as JSON.
 */
public final class TunnelRoutes {
    public static final String UPGRADE_TOKEN = "tcp";

    private TunnelRoutes() {}

    public static void register(Router router, SandboxService service) {
        router.post("/v1/sandboxes/{id}/tunnel/{port}", true, ex -> {
            int port = GuestDial.port(ex.param("port"));
            if (!UPGRADE_TOKEN.equalsIgnoreCase(ex.header("Upgrade")) || !asksForUpgrade(ex.header("Connection"))) {
                throw new DomainException(ErrorCode.UPGRADE_REQUIRED, "a tunnel is an HTTP/1.1 upgrade: send 'Connection: Upgrade' and 'Upgrade: tcp'");
            }
            RunningSandbox running = service.running(ex.user(), ex.param("id"));
            String id = running.sandbox().id();
            DialConnection dial;
            try {
                dial = GuestDial.open(running.agent(), id, port);
            } catch (GuestDial.PortRefusedException e) {
                throw new DomainException(ErrorCode.PORT_UNREACHABLE, e.getMessage());
            }
            ex.switchProtocols(UPGRADE_TOKEN, (endPoint, executor) -> new DialTunnel(endPoint, executor, dial,
                    new byte[0], () -> service.activity().touch(id), id + ":" + port));
        });
    }

    private static boolean asksForUpgrade(String connection) {
        return connection != null && Arrays.stream(connection.split(","))
                .anyMatch(token -> token.trim().equalsIgnoreCase("upgrade"));
    }
}
