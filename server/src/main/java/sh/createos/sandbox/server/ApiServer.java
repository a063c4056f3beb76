package sh.createos.sandbox.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.api.CatalogRoutes;
import sh.createos.sandbox.server.api.DiskRoutes;
import sh.createos.sandbox.server.api.SandboxHooks;
import sh.createos.sandbox.server.api.ExecRoutes;
import sh.createos.sandbox.server.api.FileRoutes;
import sh.createos.sandbox.server.api.HealthRoutes;
import sh.createos.sandbox.server.api.NetworkRoutes;
import sh.createos.sandbox.server.api.OpenApiRoutes;
import sh.createos.sandbox.server.api.TrafficRoutes;
import sh.createos.sandbox.server.api.IdentityRoutes;
import sh.createos.sandbox.server.api.KeyRoutes;
import sh.createos.sandbox.server.api.SandboxRoutes;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.auth.UserKeys;
import sh.createos.sandbox.server.disks.DiskService;
import sh.createos.sandbox.server.computer.ComputerRoutes;
import sh.createos.sandbox.server.http.ApiHandler;
import sh.createos.sandbox.server.http.IdempotencyHandler;
import sh.createos.sandbox.server.http.JsonErrorHandler;
import sh.createos.sandbox.server.http.Router;
import sh.createos.sandbox.server.ingress.IngressServer;
import sh.createos.sandbox.server.lifecycle.IdleAutoPause;
import sh.createos.sandbox.server.lifecycle.NetworkTraffic;
import sh.createos.sandbox.server.network.NetworkService;
import sh.createos.sandbox.server.metrics.MetricsRoutes;
import sh.createos.sandbox.server.metrics.MetricsToken;
import sh.createos.sandbox.server.metrics.OperatorMetrics;
import sh.createos.sandbox.server.metrics.UsageSeries;
import sh.createos.sandbox.server.network.TrafficService;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.LocalHost;
import sh.createos.sandbox.server.process.ProcessRoutes;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxViews;
import sh.createos.sandbox.server.store.IdempotencyStore;
import sh.createos.sandbox.server.ssh.SshGateway;
import sh.createos.sandbox.server.secrets.SecretBox;
import sh.createos.sandbox.server.store.DiskStore;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.shell.ShellRoutes;
import sh.createos.sandbox.server.tokens.AccessTokenRoutes;
import sh.createos.sandbox.server.tokens.AccessTokens;
import sh.createos.sandbox.server.tokens.BrowserTickets;
import sh.createos.sandbox.server.tokens.CallerAuthenticator;
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
    private Router router;
    private UsageSeries usage; // the in-memory usage sampler behind /v1/metrics
    private final SshGateway ssh;
    private DiskStore diskStore;
    private sh.createos.sandbox.server.store.TemplateStore templateStore;
    private sh.createos.sandbox.server.templates.TemplateService templates;

    private ApiServer(Server jetty, IngressServer ingress, Store store, SandboxService sandboxes,
            IdleAutoPause autoPause, SshGateway ssh) {
        this.jetty = jetty;
        this.ingress = ingress;
        this.store = store;
        this.sandboxes = sandboxes;
        this.autoPause = autoPause;
        this.ssh = ssh;
    }

    public static ApiServer start(ServerConfig config) throws Exception {
        return start(config, null, BeforeTraffic.NONE);
    }

    public static ApiServer start(ServerConfig config, java.util.function.Function<Store, Host> hosts)
            throws Exception {
        return start(config, hosts, BeforeTraffic.NONE);
    }

    /** What must be done once the port is bound and before the first request is served. */
    @FunctionalInterface
    public interface BeforeTraffic {
        BeforeTraffic NONE = (store, port) -> { };

        void run(Store store, int port) throws Exception;
    }

    /**
     * @param hosts the machines to run sandboxes on, made over the store (several remote host daemons); null for
     *              this machine alone (the embedded default)
     * @param beforeTraffic run between binding the port and serving on it, so whoever waits for {@code /healthz}
     *              finds its work done (the bootstrap credentials)
     */
    public static ApiServer start(ServerConfig config, java.util.function.Function<Store, Host> hosts,
            BeforeTraffic beforeTraffic) throws Exception {
        Files.createDirectories(config.dataDir());
        DataDirPermissions.secure(config.dataDir());
        if (config.databaseUrl() == null) {
            createPrivately(config.dataDir().resolve("control.db"));
        }
        // Seals sandbox env values and disk credentials: a key that does not open stops the start, since neither
        // could be read (or written safely) without it.
        SecretBox secrets = SecretBox.open(config.dataDir(), System.getenv());
        Store store = JdbcStore.open(config.effectiveDatabaseUrl()).sealingEnvsWith(secrets);
        IngressServer ingress = null;
        SshGateway ssh = null;
        DiskStore diskStore = null;
        sh.createos.sandbox.server.store.TemplateStore templateStore = null;
        try {
            Host host = hosts == null ? LocalHost.open(config.dataDir(), config.network()) : hosts.apply(store);
            SandboxService sandboxes = new SandboxService(store, host, config.autoPauseLimits(),
                    replicaId(config.dataDir()));
            sandboxes.reconcile();
            sandboxes.startSweeping();
            ApiKeys apiKeys = new ApiKeys(store);
            AccessTokens accessTokens = new AccessTokens(store);
            BrowserTickets browserTickets = new BrowserTickets();

            Router router = new Router();
            HealthRoutes.register(router, store, host);
            templateStore = sh.createos.sandbox.server.store.TemplateStore.open(config.effectiveDatabaseUrl());
            var templates = new sh.createos.sandbox.server.templates.TemplateService(templateStore, host,
                    sh.createos.sandbox.server.templates.TemplateSettings.fromEnvironment());
            sandboxes.resolveRootfsWith(templates);
            templates.reconcile();
            CatalogRoutes.register(router, host, templates::rootfsEntries);
            sh.createos.sandbox.server.api.TemplateRoutes.register(router, templates);
            sh.createos.sandbox.server.remote.HostRegistryRoutes.register(router, host);
            IdentityRoutes.register(router, store);
            KeyRoutes.register(router, new UserKeys(store));
            ingress = config.ingress().enabled()
                    ? IngressServer.start(config.ingress(), store, host, sandboxes.activity()) : null;
            TrafficService traffic = new TrafficService(store, sandboxes, host);
            diskStore = DiskStore.open(config.effectiveDatabaseUrl());
            DiskService disks = new DiskService(diskStore, sandboxes, host, secrets);
            disks.reconcile();
            SandboxRoutes.register(router, sandboxes, store,
                    new SandboxViews(ingress == null ? null : ingress.urls(), traffic::ingressBytes),
                    DiskRoutes.hooks(disks));
            TunnelRoutes.register(router, sandboxes);
            ShellRoutes.register(router, sandboxes, browserTickets);
            AccessTokenRoutes.register(router, sandboxes, accessTokens);
            TrafficRoutes.register(router, traffic);
            NetworkRoutes.register(router, new NetworkService(store, sandboxes, host));
            ExecRoutes.register(router, sandboxes);
            FileRoutes.register(router, sandboxes);
            ProcessRoutes.register(router, sandboxes);
            OperatorMetrics operatorMetrics = new OperatorMetrics(store);
            UsageSeries usage = new UsageSeries(store, sandboxes, traffic);
            MetricsRoutes.register(router, sandboxes, traffic, store, usage, operatorMetrics,
                    MetricsToken.load(config.dataDir()));
            DiskRoutes.register(router, disks);
            OpenApiRoutes.register(router);
            IngressServer publicIngress = ingress;
            ComputerRoutes.register(router, sandboxes, host::hasDesktop, (id, port) ->
                    Optional.ofNullable(publicIngress).map(in -> in.urls().url(id, port)));

            ssh = config.ssh() == null ? null : SshGateway.start(config.ssh(), config.dataDir(), sandboxes);
            CallerAuthenticator callers = new CallerAuthenticator(apiKeys, accessTokens, browserTickets, store);
            ApiHandler api = new ApiHandler(router, callers, operatorMetrics);
            Handler apiChain = new IdempotencyHandler(api, callers, IdempotencyStore.on(store));
            Server jetty = jetty(config, sh.createos.sandbox.server.console.ConsoleHandler.distDir()
                    .map(dist -> sh.createos.sandbox.server.console.ConsoleHandler.inFront(dist, apiChain))
                    .orElse(apiChain));
            ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
            connector.open();
            try {
                beforeTraffic.run(store, connector.getLocalPort());
            } catch (Exception | Error e) {
                connector.close();
                throw e;
            }
            jetty.start();
            usage.start();
            ApiServer server = new ApiServer(jetty, ingress, store, sandboxes,
                    new IdleAutoPause(store, sandboxes.activity(), sandboxes, new NetworkTraffic(host)).start(), ssh);
            server.router = router;
            server.usage = usage;
            server.diskStore = diskStore;
            server.templateStore = templateStore;
            server.templates = templates;
            log.info("createos-sandbox API listening on {}:{} (data {}, {})", config.host(), server.port(),
                    config.dataDir(), host.problem().map(p -> "NOT READY: " + p).orElse("ready"));
            return server;
        } catch (Exception | Error e) {
            if (ssh != null) {
                ssh.close();
            }
            if (ingress != null) {
                ingress.close();
            }
            if (diskStore != null) {
                diskStore.close();
            }
            if (templateStore != null) {
                templateStore.close();
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

    private static Server jetty(ServerConfig config, Handler handler) {
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
        // For shell-ws (ShellRoutes): the 60 s idle timeout closes a peer that stopped answering the 30 s pings.
        ServerWebSocketContainer.ensure(server).setIdleTimeout(java.time.Duration.ofSeconds(60));
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

    /** The routes this server registered, in order (checked against /openapi.json by a test). */
    public java.util.List<sh.createos.sandbox.server.http.Route> routes() {
        return router.routes();
    }

    /** The SSH gateway's port; -1 when it is off. */
    public int sshPort() {
        return ssh == null ? -1 : ssh.port();
    }

    public Store store() {
        return store;
    }

    /** The per-minute usage series behind /v1/metrics (tests take a sample at a moment of their choosing). */
    public UsageSeries usage() {
        return usage;
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
        if (ssh != null) {
            ssh.close();
        }
        if (ingress != null) {
            ingress.close();
        }
        autoPause.close();
        if (usage != null) {
            usage.close();
        }
        if (templates != null) {
            templates.shutdown();
        }
        sandboxes.shutdown();
        if (diskStore != null) {
            diskStore.close();
        }
        if (templateStore != null) {
            templateStore.close();
        }
        store.close();
        log.info("createos-sandbox API stopped; VMs left running");
    }


    /** This data directory's replica id (made once), the owner of its row claims across restarts. */
    private static String replicaId(java.nio.file.Path dataDir) throws java.io.IOException {
        java.nio.file.Path file = dataDir.resolve("replica.id");
        if (!Files.exists(file)) {
            java.nio.file.Path tmp = dataDir.resolve("replica.id.tmp");
            Files.writeString(tmp, "cp_" + Ulid.next());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        return Files.readString(file).strip();
    }
}
