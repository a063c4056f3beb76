package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import sh.createos.sandbox.server.ListenAddress;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.store.HostStore;
import sh.createos.sandbox.server.store.Store;

/**
 * The machines of a control plane that runs no VMs itself ({@code serve --host-token-file FILE}): host daemons
 * named on the command line ({@code --remote-hosts ID=HOST:PORT,…}) and those that register themselves, all reached
 * over mutual TLS with the control plane's certificate ({@code --host-tls-dir}, made by {@link HostPki} when absent)
 * or, with {@code --plaintext-loopback}, in plaintext to loopback addresses only.
 */
public final class ControlPlaneHosts {
    private ControlPlaneHosts() {}

    /** What registration needs from the HTTP side: the registry and the token heartbeats carry. */
    public record Registration(HostRegistry registry, String token) {}

    /**
     * @param tls the control plane's TLS files, or null for plaintext to loopback daemons
     */
    public static Function<Store, Host> of(List<Map.Entry<String, ListenAddress>> named, String token, HostTls tls,
            Duration deadAfter) throws IOException {
        HostRegistry.Connector connector = (id, host, port) -> tls == null
                ? RemoteHost.connectPlaintextOnLoopback(id, host, port, token)
                : RemoteHost.connect(id, host, port, token, tls);
        List<RemoteHost> remotes = new ArrayList<>();
        for (Map.Entry<String, ListenAddress> entry : named) {
            remotes.add(connector.connect(entry.getKey(), entry.getValue().host(), entry.getValue().port()));
        }
        return store -> {
            HostsOfHosts hosts = new HostsOfHosts(store, remotes);
            hosts.acceptRegistrations(new Registration(
                    new HostRegistry(HostStore.on(store), hosts, connector, deadAfter).start(), token));
            return hosts;
        };
    }
}
