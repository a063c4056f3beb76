package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import sh.createos.sandbox.model.CreateSandboxResponse;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.model.SandboxView;
import sh.createos.sandbox.model.Shape;
import sh.createos.sandbox.model.WhoAmIView;

/**
 * The entry point: one per application, thread-safe, {@link AutoCloseable}. {@link #fromEnv()} reads
 * {@code CREATEOS_SANDBOX_API_KEY} (or {@code CREATEOS_API_KEY}) and {@code CREATEOS_SANDBOX_BASE_URL} (or
 * {@code CREATEOS_SANDBOX_URL}, default {@value #DEFAULT_BASE_URL}); {@link #builder()} starts from the same
 * defaults. Every call blocks its thread (virtual threads welcome); {@link #async()} has the slow ones as
 * {@link java.util.concurrent.CompletableFuture}s.
 */
public final class SandboxClient implements AutoCloseable {
    /** The base URL when neither the builder nor the environment gives one. */
    public static final String DEFAULT_BASE_URL = "https://api.sb.createos.sh";
    /** This SDK's version, sent in the {@code User-Agent}. */
    public static final String VERSION = "0.1.0";

    final Transport transport;
    private final Networks networks;
    private final Disks disks;
    private final Templates templates;
    private final AsyncSandboxClient async;

    private SandboxClient(Transport transport) {
        this.transport = transport;
        this.networks = new Networks(transport);
        this.disks = new Disks(transport);
        this.templates = new Templates(transport);
        this.async = new AsyncSandboxClient(this);
    }

    /** A client configured from the environment only. */
    public static SandboxClient fromEnv() {
        return builder().build();
    }

    /** A builder whose defaults come from the environment. */
    public static Builder builder() {
        return new Builder(System.getenv());
    }

    static Builder builder(Map<String, String> env) {
        return new Builder(env);
    }

    /** The base URL requests go to (no trailing slash). */
    public URI baseUrl() {
        return transport.base;
    }

    /** {@code GET /healthz}: true when the server is up. */
    public boolean healthz() {
        return transport.data(new Transport.Call("GET", "/healthz").noAuth()).path("up").asBoolean();
    }

    /** The caller's identity and sandbox counts. */
    public WhoAmIView whoami() {
        return transport.data(new Transport.Call("GET", "/v1/whoami"), WhoAmIView.class);
    }

    /** The machine sizes. */
    public List<Shape> listShapes() {
        return paged("/v1/shapes", null, Shape.class).toList();
    }

    /** The root filesystems and the default one. */
    public RootfsData listRootfs() {
        return transport.data(new Transport.Call("GET", "/v1/rootfs").noAuth(), RootfsData.class);
    }

    /** The worker hosts. */
    public List<HostPublic> listHosts() {
        return paged("/v1/hosts", null, HostPublic.class).toList();
    }

    /**
     * Creates a sandbox and returns it running (the call blocks until the VM is up). Sent with an
     * {@code Idempotency-Key}, so a retry after a dropped response returns the same sandbox instead of a second.
     */
    public Sandbox createSandbox(CreateSandboxRequest request) {
        CreateSandboxResponse created = transport.data(new Transport.Call("POST", "/v1/sandboxes")
                .json(request.toModel()).idempotent(), CreateSandboxResponse.class);
        return new Sandbox(this, Transport.convert(Transport.JSON.valueToTree(created),
                Transport.JSON.constructType(SandboxView.class)));
    }

    /** The sandbox with this id. @throws NotFoundException for an unknown or foreign id */
    public Sandbox getSandbox(String id) {
        return new Sandbox(this, fetch(id));
    }

    /** The caller's sandbox with this private IP. @throws NotFoundException when none has it */
    public Sandbox getSandboxByIp(String ip) {
        return new Sandbox(this, transport.data(new Transport.Call("GET", "/v1/sandboxes/by-ip/"
                + Transport.segment(ip)), SandboxView.class));
    }

    /** Every sandbox of the caller that is not destroyed… and the destroyed ones too: all, page by page. */
    public PagedIterable<Sandbox> listSandboxes() {
        return listSandboxes(null);
    }

    /** The caller's sandboxes in {@code status} (null for all), page by page. */
    public PagedIterable<Sandbox> listSandboxes(SandboxStatus status) {
        return new PagedIterable<>(offset -> transport.data(new Transport.Call("GET", "/v1/sandboxes")
                .query("limit", PagedIterable.PAGE_SIZE).query("offset", offset)
                .query("status", status == null ? null : status.wire())),
                node -> new Sandbox(this, Transport.convert(node, Transport.JSON.constructType(SandboxView.class))));
    }

    /** Private networks. */
    public Networks networks() {
        return networks;
    }

    /** Registered S3 disks. */
    public Disks disks() {
        return disks;
    }

    /** Custom rootfs templates built from Dockerfiles. */
    public Templates templates() {
        return templates;
    }

    /** The slow calls as {@link java.util.concurrent.CompletableFuture}s. */
    public AsyncSandboxClient async() {
        return async;
    }

    SandboxView fetch(String id) {
        return transport.data(new Transport.Call("GET", "/v1/sandboxes/" + Transport.segment(id)),
                SandboxView.class);
    }

    <T> PagedIterable<T> paged(String path, Map<String, Object> filters, Class<T> type) {
        return new PagedIterable<>(offset -> {
            Transport.Call call = new Transport.Call("GET", path).query("limit", PagedIterable.PAGE_SIZE)
                    .query("offset", offset);
            if (path.equals("/v1/shapes")) {
                call.noAuth();
            }
            if (filters != null) {
                filters.forEach(call::query);
            }
            return transport.data(call);
        }, node -> Transport.convert(node, Transport.JSON.constructType(type)));
    }

    static <T> TypeReference<T> type() {
        return new TypeReference<T>() {};
    }

    /** Releases the client's connections and its async executor (when the client made it). */
    @Override
    public void close() {
        transport.close();
    }

    /** Configures a {@link SandboxClient}; unset values come from the environment, then the defaults. */
    public static final class Builder {
        private String baseUrl;
        private String apiKey;
        private Duration timeout = Duration.ofSeconds(60);
        private RetryPolicy retry = RetryPolicy.defaults();
        private String userAgent = "createos-sandbox-java/" + VERSION + " java-" + System.getProperty("java.version");
        private Consumer<RequestInfo> onRequest = r -> {};
        private Consumer<ResponseInfo> onResponse = r -> {};
        private Executor executor;

        private Builder(Map<String, String> env) {
            this.apiKey = first(env, "CREATEOS_SANDBOX_API_KEY", "CREATEOS_API_KEY");
            this.baseUrl = first(env, "CREATEOS_SANDBOX_BASE_URL", "CREATEOS_SANDBOX_URL");
        }

        private static String first(Map<String, String> env, String... names) {
            for (String name : names) {
                String v = env.get(name);
                if (v != null && !v.isBlank()) {
                    return v.strip();
                }
            }
            return null;
        }

        /** The server, e.g. {@code http://127.0.0.1:8080}; a path prefix is kept. */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = baseUrl;
            return this;
        }

        /** The API key ({@code sk_…}), sent as {@code X-Api-Key}. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** Per attempt, until the response headers arrive (60 s by default; zero disables). */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** How failed requests are retried ({@link RetryPolicy#defaults()}). */
        public Builder retry(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry);
            return this;
        }

        /** The {@code User-Agent} header. */
        public Builder userAgent(String userAgent) {
            this.userAgent = Objects.requireNonNull(userAgent);
            return this;
        }

        /** Called before every attempt of every request. */
        public Builder onRequest(Consumer<RequestInfo> listener) {
            this.onRequest = Objects.requireNonNull(listener);
            return this;
        }

        /** Called when the headers of every response arrive. */
        public Builder onResponse(Consumer<ResponseInfo> listener) {
            this.onResponse = Objects.requireNonNull(listener);
            return this;
        }

        /** Runs {@link #async()} calls; by default virtual threads on Java 21+, daemon threads before. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor);
            return this;
        }

        /** The client. @throws IllegalArgumentException for a base URL with a query or fragment */
        public SandboxClient build() {
            String raw = baseUrl == null ? DEFAULT_BASE_URL : baseUrl;
            while (raw.endsWith("/")) {
                raw = raw.substring(0, raw.length() - 1);
            }
            URI base = URI.create(raw);
            if (base.getRawQuery() != null || base.getRawFragment() != null || base.getHost() == null
                    || !(base.getScheme().equals("http") || base.getScheme().equals("https"))) {
                throw new IllegalArgumentException("base URL must be http(s)://host[:port][/prefix]: " + raw);
            }
            Executor exec = executor;
            ExecutorService owned = null;
            if (exec == null) {
                owned = defaultExecutor();
                exec = owned;
            }
            ExecutorService toClose = owned;
            return new SandboxClient(new Transport(base, apiKey, timeout, retry, userAgent, onRequest, onResponse,
                    exec, toClose == null ? null : toClose::shutdown));
        }

        private static ExecutorService defaultExecutor() {
            try {
                return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
            } catch (ReflectiveOperationException olderThan21) {
                return Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "createos-sandbox-async");
                    t.setDaemon(true);
                    return t;
                });
            }
        }
    }

}
