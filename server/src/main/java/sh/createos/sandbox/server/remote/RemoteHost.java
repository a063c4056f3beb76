package sh.createos.sandbox.server.remote;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.GuestConfiguration;
import sh.createos.sandbox.hostrpc.CreateRequest;
import sh.createos.sandbox.hostrpc.EgressRequest;
import sh.createos.sandbox.hostrpc.Empty;
import sh.createos.sandbox.hostrpc.Event;
import sh.createos.sandbox.hostrpc.ForkRequest;
import sh.createos.sandbox.hostrpc.HostInfo;
import sh.createos.sandbox.hostrpc.HostRpc;
import sh.createos.sandbox.hostrpc.InventoryReply;
import sh.createos.sandbox.hostrpc.LeaseRequest;
import sh.createos.sandbox.hostrpc.MembershipRequest;
import sh.createos.sandbox.hostrpc.NetworkRef;
import sh.createos.sandbox.hostrpc.NetworkRequest;
import sh.createos.sandbox.hostrpc.RechargeRequest;
import sh.createos.sandbox.hostrpc.ResizeRequest;
import sh.createos.sandbox.hostrpc.SandboxIds;
import sh.createos.sandbox.hostrpc.SandboxRef;
import sh.createos.sandbox.hostrpc.SnapshotLookup;
import sh.createos.sandbox.hostrpc.Text;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.host.HostEvent;
import sh.createos.sandbox.server.host.Inventory;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.host.VmShape;

/**
 * A {@link Host} on another machine: every operation is a gRPC call to its host daemon ({@link HostDaemon}),
 * authenticated by the shared token. A daemon that does not answer is {@code HOST_UNREACHABLE} (503), never a hang:
 * each call has a deadline. Host events arrive on one server stream, re-opened when it breaks.
 */
public final class RemoteHost implements Host, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteHost.class);
    /** Quick calls (reads, network changes). */
    private static final Duration CALL = Duration.ofSeconds(10);
    /** Engine calls: a boot or restore under emulation, a snapshot of a large guest. */
    private static final Duration ENGINE_CALL = Duration.ofSeconds(120);
    private static final long MIB_RESERVED = 256;

    private final String id;
    private final ManagedChannel managed;
    private final Channel channel;
    private final List<Consumer<HostEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, AgentClient> agents = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean closed;

    private RemoteHost(String id, ManagedChannel managed, String token) {
        this.id = id;
        this.managed = managed;
        Metadata headers = new Metadata();
        headers.put(HostRpc.AUTHORIZATION, "Bearer " + token);
        this.channel = ClientInterceptors.intercept(managed, MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /**
     * A client of the daemon at {@code host:port} whose host id is {@code id}, over mutual TLS: it presents the
     * control plane's certificate and trusts only a daemon certificate from the CA issued for {@code id} (whatever
     * address it dials). Events start flowing at once.
     */
    public static RemoteHost connect(String id, String host, int port, String token, HostTls tls) throws IOException {
        ManagedChannel managed = NettyChannelBuilder.forAddress(host, port, tls.client()).overrideAuthority(id).build();
        RemoteHost remote = new RemoteHost(id, managed, token);
        remote.subscribe();
        return remote;
    }

    /** A plaintext client of a daemon on a loopback address (tests on one machine; {@code --plaintext-loopback}). */
    public static RemoteHost connectPlaintextOnLoopback(String id, String host, int port, String token)
            throws IOException {
        if (!java.net.InetAddress.getByName(host).isLoopbackAddress()) {
            throw new IllegalArgumentException("host " + id + " at " + host + ": plaintext is allowed on a loopback "
                    + "address only; give the control plane its host TLS files");
        }
        ManagedChannel managed = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
        RemoteHost remote = new RemoteHost(id, managed, token);
        remote.subscribe();
        return remote;
    }

    @Override
    public void close() {
        closed = true;
        agents.values().forEach(AgentClient::close);
        managed.shutdownNow();
        try {
            managed.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }


    private <Q, R> R call(MethodDescriptor<Q, R> method, Q request, Duration deadline) throws IOException {
        try {
            return ClientCalls.blockingUnaryCall(channel, method,
                    CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS), request);
        } catch (StatusRuntimeException e) {
            Exception mapped = RpcErrors.fromStatus(id, e);
            if (mapped instanceof IOException io) {
                throw io;
            }
            throw (RuntimeException) mapped;
        }
    }

    /** For the calls whose contract has no IOException: an engine failure is a domain INTERNAL then. */
    private <Q, R> R quick(MethodDescriptor<Q, R> method, Q request) {
        try {
            return call(method, request, CALL);
        } catch (IOException e) {
            throw new DomainException(ErrorCode.INTERNAL, e.getMessage(), e);
        }
    }

    private static SandboxRef ref(String sandboxId) {
        return SandboxRef.newBuilder().setSandboxId(sandboxId).build();
    }

    private static String text(Text text) {
        return text.getPresent() ? text.getValue() : null;
    }

    private Optional<HostInfo> info() {
        try {
            return Optional.of(quick(HostRpc.INFO, Empty.getDefaultInstance()));
        } catch (DomainException e) {
            return Optional.empty();
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Optional<String> problem() {
        Optional<HostInfo> info = info();
        if (info.isEmpty()) {
            return Optional.of("host " + id + " does not answer");
        }
        return info.get().getProblem().isEmpty() ? Optional.empty() : Optional.of(info.get().getProblem());
    }

    @Override
    public List<String> images() {
        return info().map(HostInfo::getImagesList).map(List::copyOf).orElse(List.of());
    }

    @Override
    public List<sh.createos.sandbox.model.RootfsData.Entry> imageEntries() {
        return info().map(i -> i.getImageEntriesList().stream().map(e -> new sh.createos.sandbox.model.RootfsData.Entry(
                e.getName(), e.getDescription().isEmpty() ? null : e.getDescription(),
                e.getDeprecated() ? Boolean.TRUE : null, e.getSuccessor().isEmpty() ? null : e.getSuccessor()))
                .toList()).orElse(List.of());
    }

    @Override
    public java.util.OptionalLong imageMib(String image) {
        return info().flatMap(i -> i.getImageEntriesList().stream().filter(e -> e.getName().equals(image))
                        .filter(e -> e.getMib() > 0).findFirst())
                .map(e -> java.util.OptionalLong.of(e.getMib())).orElse(java.util.OptionalLong.empty());
    }

    @Override
    public boolean hasDesktop(String image) {
        return info().map(i -> i.getImageEntriesList().stream()
                .anyMatch(e -> e.getName().equals(image) && e.getHasDesktop())).orElse(false);
    }

    @Override
    public Map<String, String> labels() {
        return info().map(i -> Map.copyOf(i.getLabelsMap())).orElse(Map.of());
    }

    @Override
    public boolean hasMemoryFor(int memMib) {
        return info().map(i -> i.getAvailableMemMib() >= memMib + MIB_RESERVED).orElse(false);
    }

    @Override
    public HostPublic view() {
        return info().map(i -> new HostPublic(id, i.getProblem().isEmpty() ? "active" : "dead",
                i.getAvailableMemMib(), i.getVmCount(), i.getImagesCount() == 0 ? null : List.copyOf(i.getImagesList()),
                i.getAccelerator().isEmpty() ? null : i.getAccelerator(), null,
                i.getLabelsCount() == 0 ? null : Map.copyOf(i.getLabelsMap())))
                .orElse(new HostPublic(id, "dead", 0, 0, null, null, null));
    }

    @Override
    public Started create(String sandboxId, VmShape shape) throws IOException {
        return Values.started(call(HostRpc.CREATE, CreateRequest.newBuilder().setSandboxId(sandboxId)
                .setShape(Values.shape(shape)).build(), ENGINE_CALL));
    }

    @Override
    public SnapshotRef pause(String sandboxId) throws IOException {
        return Values.snapshot(call(HostRpc.PAUSE, ref(sandboxId), ENGINE_CALL));
    }

    @Override
    public Started resume(String sandboxId) throws IOException {
        return Values.started(call(HostRpc.RESUME, ref(sandboxId), ENGINE_CALL));
    }

    @Override
    public Started fork(String sourceId, String childId, VmShape child) throws IOException {
        return Values.started(call(HostRpc.FORK, ForkRequest.newBuilder().setSourceId(sourceId).setChildId(childId)
                .setShape(Values.shape(child)).build(), ENGINE_CALL));
    }

    @Override
    public Optional<SnapshotRef> snapshot(String sandboxId) throws IOException {
        SnapshotLookup found = call(HostRpc.SNAPSHOT, ref(sandboxId), CALL);
        return found.getPresent() ? Optional.of(Values.snapshot(found.getSnapshot())) : Optional.empty();
    }

    @Override
    public boolean isRunning(String sandboxId) {
        return quick(HostRpc.IS_RUNNING, ref(sandboxId)).getValue();
    }

    @Override
    public void resize(String sandboxId, int diskMib) throws IOException {
        call(HostRpc.RESIZE, ResizeRequest.newBuilder().setSandboxId(sandboxId).setDiskMib(diskMib).build(),
                ENGINE_CALL);
    }

    @Override
    public void destroyVm(String sandboxId) throws IOException {
        call(HostRpc.DESTROY_VM, ref(sandboxId), ENGINE_CALL);
    }

    @Override
    public void destroySnapshot(String sandboxId) throws IOException {
        call(HostRpc.DESTROY_SNAPSHOT, ref(sandboxId), ENGINE_CALL);
    }

    @Override
    public void discard(String sandboxId) throws IOException {
        call(HostRpc.DISCARD, ref(sandboxId), ENGINE_CALL);
    }

    /**
     * The sandbox's agent over the daemon's relay of its connection (one {@code Agent} call per VM life, opened on
     * first use and again after it broke: a pause ends it); self-signals are watched on it and reported as events.
     */
    @Override
    public AgentClient agent(String sandboxId) {
        AgentClient current = agents.get(sandboxId);
        if (current != null && current.isOpen()) {
            return current;
        }
        synchronized (agents) {
            current = agents.get(sandboxId);
            if (current != null && current.isOpen()) {
                return current;
            }
            try {
                AgentStreams streams = new AgentStreams(channel, sandboxId);
                AgentClient client = AgentClient.over(streams.in(), streams.out());
                client.watch(signal -> emit(new HostEvent.SelfSignalled(sandboxId, signal.action(),
                        signal.reason())));
                agents.put(sandboxId, client);
                return client;
            } catch (IOException e) {
                throw new DomainException(ErrorCode.HOST_UNREACHABLE, "the agent of sandbox " + sandboxId
                        + " on host " + id + " cannot be reached: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public Inventory inventory() throws IOException {
        InventoryReply reply = call(HostRpc.INVENTORY, Empty.getDefaultInstance(), ENGINE_CALL);
        Map<String, SnapshotRef> paused = new HashMap<>();
        reply.getPausedList().forEach(s -> paused.put(s.getSandboxId(), Values.snapshot(s)));
        Set<String> running = new HashSet<>(reply.getRunningList());
        return new Inventory(running, paused);
    }

    @Override
    public void adopt(String sandboxId) {
        quick(HostRpc.ADOPT, ref(sandboxId));
    }

    /** The remote host's VMs are its own: letting go is closing the connection. */
    @Override
    public void detachAll() {
        close();
    }

    @Override
    public void onEvent(Consumer<HostEvent> listener) {
        listeners.add(listener);
    }

    private void emit(HostEvent event) {
        listeners.forEach(l -> Thread.ofVirtual().name("host-event-" + event.sandboxId()).start(() -> l.accept(event)));
    }

    private void subscribe() {
        if (closed) {
            return;
        }
        ClientCalls.asyncServerStreamingCall(channel.newCall(HostRpc.EVENTS, CallOptions.DEFAULT),
                Empty.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(Event event) {
                        HostEvent e = switch (event.getKindCase()) {
                            case VM_EXITED -> new HostEvent.VmExited(event.getSandboxId(),
                                    event.getVmExited().getReason());
                            case SELF_SIGNALLED -> new HostEvent.SelfSignalled(event.getSandboxId(),
                                    event.getSelfSignalled().getAction(), event.getSelfSignalled().getReason());
                            case QUOTA_REACHED -> new HostEvent.QuotaReached(event.getSandboxId());
                            case KIND_NOT_SET -> null;
                        };
                        if (e != null) {
                            emit(e);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        again();
                    }

                    @Override
                    public void onCompleted() {
                        again();
                    }

                    private void again() {
                        if (!closed) {
                            log.debug("event stream of host {} ended; re-opening it", id);
                            Thread.ofVirtual().start(() -> {
                                try {
                                    Thread.sleep(1000);
                                } catch (InterruptedException e) {
                                    return;
                                }
                                subscribe();
                            });
                        }
                    }
                });
    }

    // --- network ---

    @Override
    public boolean hasNetwork() {
        return info().map(HostInfo::getHasNetwork).orElse(false);
    }

    @Override
    public String networkProblem() {
        return info().map(i -> i.getNetworkProblem().isEmpty() ? null : i.getNetworkProblem())
                .orElse("host " + id + " does not answer");
    }

    @Override
    public String lease(String sandboxId, String name, List<String> egress, long quotaBytes) throws IOException {
        return text(call(HostRpc.LEASE, LeaseRequest.newBuilder().setSandboxId(sandboxId).setName(name)
                .addAllEgress(egress).setQuotaBytes(quotaBytes).build(), CALL));
    }

    @Override
    public boolean hasLease(String sandboxId) {
        return quick(HostRpc.HAS_LEASE, ref(sandboxId)).getValue();
    }

    @Override
    public void releaseLease(String sandboxId) throws IOException {
        call(HostRpc.RELEASE_LEASE, ref(sandboxId), CALL);
    }

    @Override
    public void reconcileLeases(Collection<String> keep) throws IOException {
        call(HostRpc.RECONCILE_LEASES, SandboxIds.newBuilder().addAllSandboxIds(keep).build(), CALL);
    }

    @Override
    public void setEgress(String sandboxId, List<String> rules) throws IOException {
        call(HostRpc.SET_EGRESS, EgressRequest.newBuilder().setSandboxId(sandboxId).addAllRules(rules).build(), CALL);
    }

    @Override
    public Traffic traffic(String sandboxId) throws IOException {
        return Values.traffic(call(HostRpc.TRAFFIC, ref(sandboxId), CALL));
    }

    @Override
    public Traffic recharge(String sandboxId, long addBytes) throws IOException {
        return Values.traffic(call(HostRpc.RECHARGE, RechargeRequest.newBuilder().setSandboxId(sandboxId)
                .setAddBytes(addBytes).build(), CALL));
    }

    @Override
    public Map<String, Traffic> traffic() throws IOException {
        Map<String, Traffic> bySandbox = new HashMap<>();
        call(HostRpc.ALL_TRAFFIC, Empty.getDefaultInstance(), CALL).getBySandboxMap()
                .forEach((sandboxId, t) -> bySandbox.put(sandboxId, Values.traffic(t)));
        return bySandbox;
    }

    @Override
    public boolean hasPrivateNetwork(String networkId) {
        return quick(HostRpc.HAS_PRIVATE_NETWORK, NetworkRef.newBuilder().setNetworkId(networkId).build()).getValue();
    }

    @Override
    public String createPrivateNetwork(String networkId, String name) throws IOException {
        return text(call(HostRpc.CREATE_PRIVATE_NETWORK, NetworkRequest.newBuilder().setNetworkId(networkId)
                .setName(name).build(), CALL));
    }

    @Override
    public void deletePrivateNetwork(String networkId) throws IOException {
        call(HostRpc.DELETE_PRIVATE_NETWORK, NetworkRef.newBuilder().setNetworkId(networkId).build(), CALL);
    }

    @Override
    public String join(String networkId, String sandboxId) throws IOException {
        return text(call(HostRpc.JOIN, MembershipRequest.newBuilder().setNetworkId(networkId)
                .setSandboxId(sandboxId).build(), CALL));
    }

    @Override
    public void leave(String networkId, String sandboxId) throws IOException {
        call(HostRpc.LEAVE, MembershipRequest.newBuilder().setNetworkId(networkId).setSandboxId(sandboxId).build(),
                CALL);
    }

    @Override
    public void configureGuest(String sandboxId) throws IOException {
        // Applied over this control plane's own agent channel: the daemon relays the agent, it does not hold it.
        String network = text(call(HostRpc.GUEST_NETWORK, ref(sandboxId), CALL));
        if (network == null) {
            throw new IllegalArgumentException("sandbox " + sandboxId + " has no network lease on host " + id);
        }
        agent(sandboxId).configure(GuestConfiguration.network(Values.guestNetwork(network)));
    }

    @Override
    public void setRemoteMembers(String networkId, String name, String cidr,
            List<sh.createos.sandbox.host.net.RemoteMember> remote) throws IOException {
        sh.createos.sandbox.hostrpc.RemoteMembersRequest.Builder request = sh.createos.sandbox.hostrpc
                .RemoteMembersRequest.newBuilder().setNetworkId(networkId).setName(name).setCidr(cidr);
        for (sh.createos.sandbox.host.net.RemoteMember member : remote) {
            request.addMembers(sh.createos.sandbox.hostrpc.RemoteMember.newBuilder()
                    .setSandboxId(member.sandboxId()).setName(member.name() == null ? "" : member.name())
                    .setAddress(member.address()).setUnderlay(member.underlay()));
        }
        call(HostRpc.SET_REMOTE_MEMBERS, request.build(), CALL);
    }

    @Override
    public Optional<String> overlayAddress() {
        return info().map(HostInfo::getOverlayAddress).filter(a -> !a.isEmpty());
    }
}
