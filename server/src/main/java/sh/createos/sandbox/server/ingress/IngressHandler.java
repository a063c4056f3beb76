package sh.createos.sandbox.server.ingress;

import java.io.IOException;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.tunnel.GuestDial;

/**
 * The public side: {@code Host: <ulid>-<port>.<domain>} → that port of that sandbox, if its ingress is enabled and it
 * is running. Public means unauthenticated: the name is the capability, as on the upstream service.
 */
final class IngressHandler extends Handler.Abstract {
    private final IngressUrls urls;
    private final Store store;
    private final Host host;
    private final ActivityTracker activity;
    private final boolean secure;

    IngressHandler(IngressUrls urls, Store store, Host host, ActivityTracker activity, boolean secure) {
        super(InvocationType.BLOCKING);
        this.urls = urls;
        this.store = store;
        this.host = host;
        this.activity = activity;
        this.secure = secure;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String hostHeader = request.getHeaders().get(HttpHeader.HOST);
        Optional<IngressUrls.Target> target = urls.target(hostHeader);
        Optional<AgentClient> agent = target.flatMap(t -> servingAgent(t.sandboxId()));
        if (agent.isEmpty()) {
            IngressPages.notFound(response, callback, hostHeader);
            return true;
        }
        String sandboxId = target.get().sandboxId();
        int port = target.get().port();
        activity.touch(sandboxId);
        DialConnection dial;
        try {
            dial = GuestDial.open(agent.get(), sandboxId, port);
        } catch (IOException e) {
            IngressPages.badGateway(response, callback, e.getMessage());
            return true;
        }
        new GuestHttpForwarder(request, response, callback, dial, () -> activity.touch(sandboxId), sandboxId, port)
                .forward(secure);
        return true;
    }

    private Optional<AgentClient> servingAgent(String sandboxId) {
        Optional<SandboxRecord> row = store.sandbox(sandboxId)
                .filter(s -> s.ingressEnabled() && s.status() == SandboxStatus.RUNNING);
        return row.isEmpty() || !host.isRunning(sandboxId) ? Optional.empty() : Optional.of(host.agent(sandboxId));
    }
}
