package sh.createos.sandbox.server.ingress;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.store.Store;

/** The ingress reverse proxy on its own listener (and Jetty server), apart from the API. */
public final class IngressServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IngressServer.class);
    /** Long enough for a quiet server-sent-event stream or long poll; tunnels after a 101 have none. */
    private static final long IDLE_TIMEOUT_MS = 300_000;

    private final Server jetty;
    private final IngressUrls urls;

    private IngressServer(Server jetty, IngressUrls urls) {
        this.jetty = jetty;
        this.urls = urls;
    }

    public static IngressServer start(IngressConfig config, Store store, Host host, ActivityTracker activity)
            throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("ingress");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        boolean tls = config.tls() != null;
        ServerConnector connector;
        if (tls) {
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false); // a wildcard certificate for *.<domain> serves every sandbox name
            http.addCustomizer(secure);
            connector = new ServerConnector(server, new SslConnectionFactory(sslContext(config.tls()),
                    HttpVersion.HTTP_1_1.asString()), new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        connector.setHost(config.listen().host());
        connector.setPort(config.listen().port());
        connector.setIdleTimeout(IDLE_TIMEOUT_MS);
        server.addConnector(connector);
        // Routing needs the public port, known once bound; the handler is set before any request can arrive.
        connector.open();
        IngressUrls urls = new IngressUrls(tls, config.domain(), connector.getLocalPort());
        server.setHandler(new IngressHandler(urls, store, host, activity, tls));
        server.setStopTimeout(5_000);
        server.start();
        log.info("ingress listening on {}:{} for {}", config.listen().host(), connector.getLocalPort(),
                urls.template("sb_<ulid>"));
        return new IngressServer(server, urls);
    }

    private static SslContextFactory.Server sslContext(IngressConfig.IngressTls tls)
            throws IOException, GeneralSecurityException {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        if (tls.keyStore() != null) {
            ssl.setKeyStorePath(tls.keyStore().toString());
            ssl.setKeyStorePassword(tls.password() == null ? "" : tls.password());
        } else {
            ssl.setKeyStore(PemKeyStore.load(tls.certificate(), tls.privateKey()));
            ssl.setKeyStorePassword(PemKeyStore.PASSWORD);
        }
        return ssl;
    }

    public IngressUrls urls() {
        return urls;
    }

    public int port() {
        return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
    }

    @Override
    public void close() {
        try {
            jetty.stop();
        } catch (Exception e) {
            log.warn("stopping the ingress: {}", e.toString());
        }
    }
}
