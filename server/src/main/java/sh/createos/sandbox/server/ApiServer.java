package sh.createos.sandbox.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.api.CatalogRoutes;
import sh.createos.sandbox.server.api.ExecRoutes;
import sh.createos.sandbox.server.api.FileRoutes;
import sh.createos.sandbox.server.api.HealthRoutes;
import sh.createos.sandbox.server.api.NetworkRoutes;
import sh.createos.sandbox.server.api.TrafficRoutes;
import sh.createos.sandbox.server.api.IdentityRoutes;
import sh.createos.sandbox.server.api.SandboxRoutes;
import sh.createos.sandbox.server.api.UnconfiguredRoutes;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.computer.ComputerRoutes;
import sh.createos.sandbox.server.http.ApiHandler;
import sh.createos.sandbox.server.http.JsonErrorHandler;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.ingress.IngressServer;
import sh.createos.sandbox.server.lifecycle.IdleAutoPause;
import sh.createos.sandbox.server.lifecycle.NetworkTraffic;
import sh.createos.sandbox.server.lifecycle.SelfSignalWatcher;
import sh.createos.sandbox.server.network.NetworkService;
import sh.createos.sandbox.server.network.TrafficService;
import sh.createos.sandbox.server.sandbox.LocalHost;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxViews;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.tunnel.TunnelRoutes;

/**
 * The running control plane: store, local host, sandbox service and the HTTP API on Jetty with virtual threads.
 * {@link #close()} is graceful: stop accepting, let in-flight requests finish, leave the VMs running.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final long STOP_TIMEOUT_MS = 30_000;

    private final Server jetty;
    private final IngressServer ingress;
    private final Store store;
    private final SandboxService sandboxes;
    private final IdleAutoPause autoPause;

    private ApiServer(Server jetty, IngressServer ingress, Store store, SandboxService sandboxes,
            IdleAutoPause autoPause) {
        this.jetty = jetty;
        this.ingress = ingress;
        this.store = store;
        this.sandboxes = sandboxes;
        this.autoPause = autoPause;
    }

    public static ApiServer start(ServerConfig config) throws Exception {
        Files.createDirectories(config.dataDir());
        if (config.databaseUrl() == null) {
            createPrivately(config.dataDir().resolve("control.db"));
        }
        Store store = JdbcStore.open(config.effectiveDatabaseUrl());
        IngressServer ingress = null;
        try {
            LocalHost host = LocalHost.open(config.dataDir(), config.network());
            SandboxService sandboxes = new SandboxService(store, host, config.autoPauseLimits());
            host.addListener(new SelfSignalWatcher(sandboxes));
            sandboxes.reconcile();
            ApiKeys apiKeys = new ApiKeys(store);

            Router router = new Router();
            HealthRoutes.register(router, store, host);
            CatalogRoutes.register(router, host);
            IdentityRoutes.register(router, store);
            ingress = config.ingress().enabled()
                    ? IngressServer.start(config.ingress(), store, host, sandboxes.activity()) : null;
            TrafficService traffic = new TrafficService(store, sandboxes, host);
            SandboxRoutes.register(router, sandboxes, store,
                    new SandboxViews(ingress == null ? null : ingress.urls(), traffic::ingressBytes));
            TunnelRoutes.register(router, sandboxes);
            TrafficRoutes.register(router, traffic);
            NetworkRoutes.register(router, new NetworkService(store, sandboxes, host));
            ExecRoutes.register(router, sandboxes);
            FileRoutes.register(router, sandboxes);
            IngressServer publicIngress = ingress;
            ComputerRoutes.register(router, sandboxes, host::hasDesktop, (id, port) ->
                    Optional.ofNullable(publicIngress).map(in -> in.urls().url(id, port)));
            UnconfiguredRoutes.register(router);

            Server jetty = jetty(config, new ApiHandler(router, apiKeys));
            jetty.start();
            ApiServer server = new ApiServer(jetty, ingress, store, sandboxes,
                    new IdleAutoPause(store, sandboxes.activity(), sandboxes, new NetworkTraffic(host)).start());
            log.info("createos-sandbox API listening on {}:{} (data {}, {})", config.host(), server.port(),
                    config.dataDir(), host.problem().map(p -> "NOT READY: " + p).orElse("ready"));
            return server;
        } catch (Exception | Error e) {
            if (ingress != null) {
                ingress.close();
            }
            store.close();
            throw e;
        }
    }

    /**
     * The database holds sandbox env values and key hashes: only the owner may read it. SQLite gives its -wal and
     * -shm files the mode of the database file.
     */
    private static void createPrivately(Path file) throws java.io.IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
    }

    private static Server jetty(ServerConfig config, ApiHandler handler) {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("api");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        // Path parameters may carry percent-encoded '/' (e.g. "sb%20id%2Fx"); the router splits before decoding.
        http.setUriCompliance(UriCompliance.LEGACY);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.host());
        connector.setPort(config.port());
        server.addConnector(connector);
        server.setHandler(new GracefulHandler(handler));
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(STOP_TIMEOUT_MS);
        server.setStopAtShutdown(false);
        return server;
    }

    public int port() {
        return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
    }

    /** The ingress listener's port; -1 when ingress is off. */
    public int ingressPort() {
        return ingress == null ? -1 : ingress.port();
    }

    public Store store() {
        return store;
    }

    public void join() throws InterruptedException {
        jetty.join();
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            log.warn("stopping the HTTP server: {}", e.toString());
        }
        if (ingress != null) {
            ingress.close();
        }
        autoPause.close();
        sandboxes.shutdown();
        store.close();
        log.info("createos-sandbox API stopped; VMs left running");
    }

}
