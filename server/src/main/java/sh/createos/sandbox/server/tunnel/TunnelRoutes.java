package sh.createos.sandbox.server.tunnel;

import java.util.Set;
import org.eclipse.jetty.io.Connection;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.server.http.ApiException;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * {@code POST /v1/sandboxes/{id}/tunnel/{port}} with {@code Connection: Upgrade} and {@code Upgrade: tcp-tunnel}
 * (the CLI's token; {@code tcp} too): answers {@code 101 Switching Protocols} with the token asked for, and from
 * then on the connection carries the raw bytes of one TCP connection to that guest port (loopback-bound ones
 * too), half-closes included. Every check, the guest dial included, happens before the 101; errors are JSON.
 */
public final class TunnelRoutes {
    /** What a client sent before the CLI's token was supported; still accepted. */
    public static final String UPGRADE_TOKEN = UpgradeRequests.LEGACY_TOKEN;
    static final int MAX_TUNNELS_PER_SANDBOX = 64;

    private TunnelRoutes() {}

    public static void register(Router router, SandboxService service) {
        ConnectionLimits limits = new ConnectionLimits("tunnels", MAX_TUNNELS_PER_SANDBOX);
        router.post("/v1/sandboxes/{id}/tunnel/{port}", true, ex -> {
            int port = GuestDial.port(ex.param("port"));
            String token = UpgradeRequests.token(ex,
                    Set.of(UpgradeRequests.CLI_TOKEN, UpgradeRequests.LEGACY_TOKEN), 426);
            RunningSandbox running = service.running(ex.user(), ex.param("id"));
            String id = running.sandbox().id();
            ConnectionLimits.Slot slot = limits.acquire(id);
            DialConnection dial;
            try {
                dial = GuestDial.open(running.agent(), id, port);
            } catch (GuestDial.PortRefusedException e) {
                slot.run();
                throw new ApiException(502, "PORT_UNREACHABLE", e.getMessage());
            } catch (java.io.IOException | RuntimeException e) {
                slot.run();
                throw e;
            }
            // An open tunnel is activity (a quiet SSH session too) until it closes: no idle auto-pause under it.
            var busy = service.activity().busy(id);
            ex.switchProtocols(token, (endPoint, executor) -> {
                DialTunnel tunnel = new DialTunnel(endPoint, executor, dial, new byte[0],
                        () -> service.activity().touch(id), id + ":" + port);
                tunnel.addEventListener(new Connection.Listener() {
                    @Override
                    public void onClosed(Connection connection) {
                        busy.close();
                        slot.run();
                    }
                });
                return tunnel;
            });
        });
    }
}
