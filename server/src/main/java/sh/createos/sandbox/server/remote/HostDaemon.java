package sh.createos.sandbox.server.remote;

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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.hostrpc.AllTrafficReply;
import sh.createos.sandbox.hostrpc.Empty;
import sh.createos.sandbox.hostrpc.Event;
import sh.createos.sandbox.hostrpc.Flag;
import sh.createos.sandbox.hostrpc.HostInfo;
import sh.createos.sandbox.hostrpc.HostRpc;
import sh.createos.sandbox.hostrpc.InventoryReply;
import sh.createos.sandbox.hostrpc.SnapshotLookup;
import sh.createos.sandbox.hostrpc.Text;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.server.host.LocalHost;
import sh.createos.sandbox.server.host.HostEvent;

/**
 * One machine's host ({@link LocalHost}) served over gRPC on HTTP/2 to a control plane: every call
 * needs the shared token. The VMs belong to the machine: the daemon keeps them running whether or not a control
 * plane is connected, and a control plane that comes back re-attaches through {@code Inventory} and {@code Adopt}.
 */
public final class HostDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostDaemon.class);

    private final LocalHost host;
    private final Server server;
    private final Set<StreamObserver<Event>> subscribers = ConcurrentHashMap.newKeySet();

    private HostDaemon(LocalHost host, InetSocketAddress listen, String token) {
        this.host = host;
        host.onEvent(this::publish);
        ServerServiceDefinition service = ServerInterceptors.intercept(service(), new TokenCheck(token));
        this.server = NettyServerBuilder.forAddress(listen)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(service)
                .build();
    }

    public static HostDaemon start(LocalHost host, InetSocketAddress listen, String token) throws IOException {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("a host daemon needs a shared token");
        }
        HostDaemon daemon = new HostDaemon(host, listen, token);
        daemon.server.start();
        log.info("host daemon {} serving on {}", host.id(), daemon.port());
        return daemon;
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
                .addMethod(HostRpc.CREATE, unary(q -> Values.started(host.create(q.getSandboxId(),
                        Values.shape(q.getShape())))))
                .addMethod(HostRpc.PAUSE, unary(q -> Values.snapshot(host.pause(q.getSandboxId()))))
                .addMethod(HostRpc.RESUME, unary(q -> Values.started(host.resume(q.getSandboxId()))))
                .addMethod(HostRpc.FORK, unary(q -> Values.started(host.fork(q.getSourceId(), q.getChildId(),
                        Values.shape(q.getShape())))))
                .addMethod(HostRpc.SNAPSHOT, unary(q -> host.snapshot(q.getSandboxId())
                        .map(s -> SnapshotLookup.newBuilder().setPresent(true).setSnapshot(Values.snapshot(s)).build())
                        .orElse(SnapshotLookup.getDefaultInstance())))
                .addMethod(HostRpc.IS_RUNNING, unary(q -> flag(host.isRunning(q.getSandboxId()))))
                .addMethod(HostRpc.RESIZE, unary(q -> {
                    host.resize(q.getSandboxId(), q.getDiskMib());
                    return empty();
                }))
                .addMethod(HostRpc.DESTROY_VM, unary(q -> {
                    host.destroyVm(q.getSandboxId());
                    return empty();
                }))
                .addMethod(HostRpc.DESTROY_SNAPSHOT, unary(q -> {
                    host.destroySnapshot(q.getSandboxId());
                    return empty();
                }))
                .addMethod(HostRpc.DISCARD, unary(q -> {
                    host.discard(q.getSandboxId());
                    return empty();
                }))
                .addMethod(HostRpc.INVENTORY, unary(q -> {
                    var inventory = host.inventory();
                    InventoryReply.Builder reply = InventoryReply.newBuilder().addAllRunning(inventory.running());
                    inventory.paused().values().forEach(s -> reply.addPaused(Values.snapshot(s)));
                    return reply.build();
                }))
                .addMethod(HostRpc.ADOPT, unary(q -> {
                    host.adopt(q.getSandboxId());
                    return empty();
                }))
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
                .addMethod(HostRpc.CONFIGURE_GUEST, unary(q -> {
                    host.configureGuest(q.getSandboxId());
                    return empty();
                }))
                .build();
    }

    private HostInfo info() {
        HostPublic view = host.view();
        HostInfo.Builder info = HostInfo.newBuilder().setId(host.id()).setStatus(view.status())
                .setAvailableMemMib(view.freeMib()).setVmCount(view.vmCount())
                .addAllImages(host.images()).setHasNetwork(host.hasNetwork())
                .setVcpus(Runtime.getRuntime().availableProcessors());
        host.problem().ifPresent(info::setProblem);
        if (host.networkProblem() != null) {
            info.setNetworkProblem(host.networkProblem());
        }
        return info.build();
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
