package sh.createos.sandbox.server.remote;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.hostrpc.AllTrafficReply;
import sh.createos.sandbox.hostrpc.Empty;
import sh.createos.sandbox.hostrpc.Event;
import sh.createos.sandbox.hostrpc.Flag;
import sh.createos.sandbox.hostrpc.HostInfo;
import sh.createos.sandbox.hostrpc.HostRpc;
import sh.createos.sandbox.hostrpc.ImageEntry;
import sh.createos.sandbox.hostrpc.InventoryReply;
import sh.createos.sandbox.hostrpc.SnapshotLookup;
import sh.createos.sandbox.hostrpc.Text;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.server.host.LocalHost;
import sh.createos.sandbox.server.host.HostEvent;

/**
 * One machine's host ({@link LocalHost}) served over gRPC on HTTP/2 to a control plane: every call
 * needs the shared token and, over mutual TLS, the control plane's client certificate. The VMs belong to the machine: the daemon keeps them running whether or not a control
 * plane is connected, and a control plane that comes back re-attaches through {@code Inventory} and {@code Adopt}.
 */
public final class HostDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostDaemon.class);

    private final LocalHost host;
    private final Server server;
    private final Set<StreamObserver<Event>> subscribers = ConcurrentHashMap.newKeySet();
    private final Config config;

    private HostDaemon(LocalHost host, Config config) throws IOException {
        this.host = host;
        this.config = config;
        host.onEvent(this::publish);
        ServerServiceDefinition service = config.tls() == null
                ? ServerInterceptors.intercept(service(), new TokenCheck(config.token()))
                // Interceptors run last-added first: the certificate's name is checked before the token.
                : ServerInterceptors.intercept(service(), new TokenCheck(config.token()), new ControlPlaneOnly());
        NettyServerBuilder builder = config.tls() == null ? NettyServerBuilder.forAddress(config.listen())
                : NettyServerBuilder.forAddress(config.listen(), config.tls().server());
        this.server = builder
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(service)
                .build();
    }

    /**
     * What a daemon serves as: its host id (rows name it; its certificate carries it), where it listens, the
     * shared token, its mutual TLS ({@code null}: plaintext, allowed on a loopback address only) and its placement
     * labels.
     */
    public record Config(String hostId, InetSocketAddress listen, String token, HostTls tls,
                         Map<String, String> labels) {
        public Config {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("a host daemon needs a shared token");
            }
            if (hostId == null || !hostId.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
                throw new IllegalArgumentException("a host id is a DNS label (a-z, 0-9, '-'), not '" + hostId + "'");
            }
            if (tls == null && !listen.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException("a host daemon on " + listen.getAddress().getHostAddress()
                        + " needs mutual TLS: plaintext is allowed on a loopback address only");
            }
            labels = Map.copyOf(labels == null ? Map.of() : labels);
        }
    }

    /**
     * Serves {@code host}, having first taken into its care every VM of the machine that runs (a daemon that
     * restarted re-attaches its VMs at once, so their agents are reachable before any control plane reconciles).
     */
    public static HostDaemon start(LocalHost host, Config config) throws IOException {
        if (host.problem().isEmpty()) {
            for (String sandboxId : host.inventory().running()) {
                host.adopt(sandboxId);
            }
        }
        HostDaemon daemon = new HostDaemon(host, config);
        daemon.server.start();
        log.info("host daemon {} serving on {}:{} ({})", config.hostId(), config.listen().getHostString(),
                daemon.port(), config.tls() == null ? "PLAINTEXT, loopback" : "mutual TLS");
        return daemon;
    }

    /** A daemon without TLS on a loopback address (tests on one machine; {@code --plaintext-loopback}). */
    public static HostDaemon startPlaintextOnLoopback(LocalHost host, InetSocketAddress listen, String token)
            throws IOException {
        return start(host, new Config(LocalHost.ID, listen, token, null, Map.of()));
    }

    public String hostId() {
        return config.hostId();
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    private void publish(HostEvent event) {
        Event.Builder message = Event.newBuilder().setSandboxId(event.sandboxId());
        switch (event) {
            case HostEvent.VmExited e -> message.setVmExited(Event.VmExited.newBuilder().setReason(e.reason()));
            case HostEvent.SelfSignalled e -> message.setSelfSignalled(Event.SelfSignalled.newBuilder()
                    .setAction(e.action()).setReason(e.reason()));
            case HostEvent.QuotaReached e -> message.setQuotaReached(Event.QuotaReached.getDefaultInstance());
        }
        Event built = message.build();
        for (StreamObserver<Event> subscriber : subscribers) {
            try {
                synchronized (subscriber) {
                    subscriber.onNext(built);
                }
            } catch (RuntimeException gone) {
                subscribers.remove(subscriber);
            }
        }
    }

    /**
     * The engine steps on one sandbox run one at a time, whichever control plane asked. A control plane killed in
     * the middle of a create or a pause leaves that step running here; the replica that settles the row after it
     * asks for the sandbox's snapshot, which waits for the step to end, so it decides on what the step left.
     */
    private static final class Busy {
        private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

        <R> R of(String sandboxId, Callable<R> step) throws Exception {
            ReentrantLock lock = locks.computeIfAbsent(sandboxId, id -> new ReentrantLock());
            lock.lock();
            try {
                return step.call();
            } finally {
                lock.unlock();
            }
        }
    }

    private final Busy busy = new Busy();

    /** One call of the service: its answer, or the failure {@link RpcErrors} turns into a status. */
    private interface Call<Q, R> {
        R answer(Q request) throws Exception;
    }

    private static <Q, R> ServerCallHandler<Q, R> unary(Call<Q, R> call) {
        return ServerCalls.asyncUnaryCall((request, response) -> {
            try {
                response.onNext(call.answer(request));
                response.onCompleted();
            } catch (Exception e) {
                response.onError(RpcErrors.toStatus(e));
            }
        });
    }

    private static Empty empty() {
        return Empty.getDefaultInstance();
    }

    private static Flag flag(boolean value) {
        return Flag.newBuilder().setValue(value).build();
    }

    private static Text text(String value) {
        return value == null ? Text.getDefaultInstance() : Text.newBuilder().setValue(value).setPresent(true).build();
    }

    private ServerServiceDefinition service() {
        return ServerServiceDefinition.builder(HostRpc.SERVICE)
                .addMethod(HostRpc.INFO, unary(q -> info()))
                .addMethod(HostRpc.CREATE, unary(q -> busy.of(q.getSandboxId(), () -> Values.started(host.create(
                        q.getSandboxId(), Values.shape(q.getShape()))))))
                .addMethod(HostRpc.PAUSE, unary(q -> busy.of(q.getSandboxId(),
                        () -> Values.snapshot(host.pause(q.getSandboxId())))))
                .addMethod(HostRpc.RESUME, unary(q -> busy.of(q.getSandboxId(),
                        () -> Values.started(host.resume(q.getSandboxId())))))
                .addMethod(HostRpc.FORK, unary(q -> busy.of(q.getChildId(), () -> Values.started(host.fork(
                        q.getSourceId(), q.getChildId(), Values.shape(q.getShape()))))))
                .addMethod(HostRpc.SNAPSHOT, unary(q -> busy.of(q.getSandboxId(), () -> host.snapshot(q.getSandboxId())
                        .map(s -> SnapshotLookup.newBuilder().setPresent(true).setSnapshot(Values.snapshot(s)).build())
                        .orElse(SnapshotLookup.getDefaultInstance()))))
                .addMethod(HostRpc.IS_RUNNING, unary(q -> flag(host.isRunning(q.getSandboxId()))))
                .addMethod(HostRpc.RESIZE, unary(q -> {
                    host.resize(q.getSandboxId(), q.getDiskMib());
                    return empty();
                }))
                .addMethod(HostRpc.DESTROY_VM, unary(q -> busy.of(q.getSandboxId(), () -> {
                    host.destroyVm(q.getSandboxId());
                    return empty();
                })))
                .addMethod(HostRpc.DESTROY_SNAPSHOT, unary(q -> busy.of(q.getSandboxId(), () -> {
                    host.destroySnapshot(q.getSandboxId());
                    return empty();
                })))
                .addMethod(HostRpc.DISCARD, unary(q -> busy.of(q.getSandboxId(), () -> {
                    host.discard(q.getSandboxId());
                    return empty();
                })))
                .addMethod(HostRpc.INVENTORY, unary(q -> {
                    var inventory = host.inventory();
                    InventoryReply.Builder reply = InventoryReply.newBuilder().addAllRunning(inventory.running());
                    inventory.paused().values().forEach(s -> reply.addPaused(Values.snapshot(s)));
                    return reply.build();
                }))
                .addMethod(HostRpc.ADOPT, unary(q -> busy.of(q.getSandboxId(), () -> {
                    host.adopt(q.getSandboxId());
                    return empty();
                })))
                .addMethod(HostRpc.EVENTS, ServerCalls.asyncServerStreamingCall((q, observer) -> {
                    subscribers.add(observer);
                    ((ServerCallStreamObserver<Event>) observer).setOnCancelHandler(() -> subscribers.remove(observer));
                }))
                .addMethod(HostRpc.AGENT, ServerCalls.asyncBidiStreamingCall(
                        responses -> new AgentRelay(host, responses)))
                .addMethod(HostRpc.LEASE, unary(q -> text(host.lease(q.getSandboxId(), q.getName(),
                        q.getEgressList(), q.getQuotaBytes()))))
                .addMethod(HostRpc.HAS_LEASE, unary(q -> flag(host.hasLease(q.getSandboxId()))))
                .addMethod(HostRpc.RELEASE_LEASE, unary(q -> {
                    host.releaseLease(q.getSandboxId());
                    return empty();
                }))
                .addMethod(HostRpc.RECONCILE_LEASES, unary(q -> {
                    host.reconcileLeases(q.getSandboxIdsList());
                    return empty();
                }))
                .addMethod(HostRpc.SET_EGRESS, unary(q -> {
                    host.setEgress(q.getSandboxId(), q.getRulesList());
                    return empty();
                }))
                .addMethod(HostRpc.TRAFFIC, unary(q -> Values.traffic(host.traffic(q.getSandboxId()))))
                .addMethod(HostRpc.RECHARGE, unary(q -> Values.traffic(host.recharge(q.getSandboxId(),
                        q.getAddBytes()))))
                .addMethod(HostRpc.ALL_TRAFFIC, unary(q -> {
                    AllTrafficReply.Builder reply = AllTrafficReply.newBuilder();
                    host.traffic().forEach((id, t) -> reply.putBySandbox(id, Values.traffic(t)));
                    return reply.build();
                }))
                .addMethod(HostRpc.HAS_PRIVATE_NETWORK, unary(q -> flag(host.hasPrivateNetwork(q.getNetworkId()))))
                .addMethod(HostRpc.CREATE_PRIVATE_NETWORK, unary(q -> text(host.createPrivateNetwork(
                        q.getNetworkId(), q.getName()))))
                .addMethod(HostRpc.DELETE_PRIVATE_NETWORK, unary(q -> {
                    host.deletePrivateNetwork(q.getNetworkId());
                    return empty();
                }))
                .addMethod(HostRpc.JOIN, unary(q -> text(host.join(q.getNetworkId(), q.getSandboxId()))))
                .addMethod(HostRpc.LEAVE, unary(q -> {
                    host.leave(q.getNetworkId(), q.getSandboxId());
                    return empty();
                }))
                .addMethod(HostRpc.GUEST_NETWORK, unary(q -> text(host.guestNetwork(q.getSandboxId())
                        .map(Values::guestNetwork).orElse(null))))
                .addMethod(HostRpc.SET_REMOTE_MEMBERS, unary(q -> {
                    host.setRemoteMembers(q.getNetworkId(), q.getName(), q.getCidr(), q.getMembersList().stream()
                            .map(m -> new sh.createos.sandbox.host.net.RemoteMember(m.getSandboxId(),
                                    m.getName().isEmpty() ? null : m.getName(), m.getAddress(), m.getUnderlay()))
                            .toList());
                    return empty();
                }))
                .build();
    }

    private HostInfo info() {
        HostPublic view = host.view();
        HostInfo.Builder info = HostInfo.newBuilder().setId(config.hostId()).setStatus(view.status())
                .setAvailableMemMib(view.freeMib()).setVmCount(view.vmCount())
                .addAllImages(host.images()).setHasNetwork(host.hasNetwork())
                .setVcpus(Runtime.getRuntime().availableProcessors())
                .putAllLabels(config.labels());
        if (view.accelerator() != null) {
            info.setAccelerator(view.accelerator());
        }
        host.overlayAddress().ifPresent(info::setOverlayAddress);
        for (RootfsData.Entry entry : host.imageEntries()) {
            ImageEntry.Builder image = ImageEntry.newBuilder().setName(entry.name())
                    .setDeprecated(Boolean.TRUE.equals(entry.deprecated()))
                    .setMib(host.imageMib(entry.name()).orElse(0)).setHasDesktop(host.hasDesktop(entry.name()));
            if (entry.description() != null) {
                image.setDescription(entry.description());
            }
            if (entry.successor() != null) {
                image.setSuccessor(entry.successor());
            }
            info.addImageEntries(image);
        }
        host.problem().ifPresent(info::setProblem);
        if (host.networkProblem() != null) {
            info.setNetworkProblem(host.networkProblem());
        }
        return info.build();
    }

    /**
     * Behind mutual TLS (the handshake already wanted a certificate from the CA): refuses every caller whose
     * certificate is not the control plane's, e.g. another host daemon's.
     */
    private static final class ControlPlaneOnly implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            if (session == null || !isControlPlane(session)) {
                call.close(Status.PERMISSION_DENIED.withDescription("only the control plane's certificate ("
                        + HostPki.CONTROL_PLANE + ") may call a host daemon"), new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }

        private static boolean isControlPlane(SSLSession session) {
            try {
                Certificate[] chain = session.getPeerCertificates();
                if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)
                        || leaf.getSubjectAlternativeNames() == null) {
                    return false;
                }
                for (List<?> name : leaf.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(name.get(0)) && HostPki.CONTROL_PLANE.equals(name.get(1))) {
                        return true; // a dNSName entry
                    }
                }
                return false;
            } catch (SSLPeerUnverifiedException | java.security.cert.CertificateParsingException e) {
                return false;
            }
        }
    }

    /** Refuses every call without the shared token (compared in constant time). */
    private static final class TokenCheck implements ServerInterceptor {
        private final byte[] expected;

        TokenCheck(String token) {
            this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            String presented = headers.get(HostRpc.AUTHORIZATION);
            if (presented == null || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
                call.close(Status.UNAUTHENTICATED.withDescription("missing or wrong host token"), new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }
    }

}
