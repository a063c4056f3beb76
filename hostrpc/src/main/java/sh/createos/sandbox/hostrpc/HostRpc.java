package sh.createos.sandbox.hostrpc;

import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.protobuf.ProtoUtils;

/**
 * The method descriptors of {@code createos.host.v1.HostService} ({@code host.proto}), what protoc's gRPC plugin
 * would generate: the service's wire names with protobuf marshallers, for the host daemon and its client.
 */
public final class HostRpc {
    public static final String SERVICE = "createos.host.v1.HostService";
    /** The shared token, as {@code authorization: Bearer <token>}. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private HostRpc() {}

    public static final MethodDescriptor<Empty, HostInfo> INFO = unary("Info", Empty.getDefaultInstance(),
            HostInfo.getDefaultInstance());
    public static final MethodDescriptor<CreateRequest, StartedReply> CREATE = unary("Create",
            CreateRequest.getDefaultInstance(), StartedReply.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, SnapshotReply> PAUSE = unary("Pause",
            SandboxRef.getDefaultInstance(), SnapshotReply.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, StartedReply> RESUME = unary("Resume",
            SandboxRef.getDefaultInstance(), StartedReply.getDefaultInstance());
    public static final MethodDescriptor<ForkRequest, StartedReply> FORK = unary("Fork",
            ForkRequest.getDefaultInstance(), StartedReply.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, SnapshotLookup> SNAPSHOT = unary("Snapshot",
            SandboxRef.getDefaultInstance(), SnapshotLookup.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Flag> IS_RUNNING = unary("IsRunning",
            SandboxRef.getDefaultInstance(), Flag.getDefaultInstance());
    public static final MethodDescriptor<ResizeRequest, Empty> RESIZE = unary("Resize",
            ResizeRequest.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Empty> DESTROY_VM = unary("DestroyVm",
            SandboxRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Empty> DESTROY_SNAPSHOT = unary("DestroySnapshot",
            SandboxRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Empty> DISCARD = unary("Discard",
            SandboxRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<Empty, InventoryReply> INVENTORY = unary("Inventory",
            Empty.getDefaultInstance(), InventoryReply.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Empty> ADOPT = unary("Adopt",
            SandboxRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<Empty, Event> EVENTS = method("Events", MethodType.SERVER_STREAMING,
            Empty.getDefaultInstance(), Event.getDefaultInstance());
    public static final MethodDescriptor<AgentChunk, AgentChunk> AGENT = method("Agent", MethodType.BIDI_STREAMING,
            AgentChunk.getDefaultInstance(), AgentChunk.getDefaultInstance());
    public static final MethodDescriptor<LeaseRequest, Text> LEASE = unary("Lease",
            LeaseRequest.getDefaultInstance(), Text.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Flag> HAS_LEASE = unary("HasLease",
            SandboxRef.getDefaultInstance(), Flag.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Empty> RELEASE_LEASE = unary("ReleaseLease",
            SandboxRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxIds, Empty> RECONCILE_LEASES = unary("ReconcileLeases",
            SandboxIds.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<EgressRequest, Empty> SET_EGRESS = unary("SetEgress",
            EgressRequest.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, TrafficReply> TRAFFIC = unary("Traffic",
            SandboxRef.getDefaultInstance(), TrafficReply.getDefaultInstance());
    public static final MethodDescriptor<RechargeRequest, TrafficReply> RECHARGE = unary("Recharge",
            RechargeRequest.getDefaultInstance(), TrafficReply.getDefaultInstance());
    public static final MethodDescriptor<Empty, AllTrafficReply> ALL_TRAFFIC = unary("AllTraffic",
            Empty.getDefaultInstance(), AllTrafficReply.getDefaultInstance());
    public static final MethodDescriptor<NetworkRef, Flag> HAS_PRIVATE_NETWORK = unary("HasPrivateNetwork",
            NetworkRef.getDefaultInstance(), Flag.getDefaultInstance());
    public static final MethodDescriptor<NetworkRequest, Text> CREATE_PRIVATE_NETWORK = unary("CreatePrivateNetwork",
            NetworkRequest.getDefaultInstance(), Text.getDefaultInstance());
    public static final MethodDescriptor<NetworkRef, Empty> DELETE_PRIVATE_NETWORK = unary("DeletePrivateNetwork",
            NetworkRef.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<MembershipRequest, Text> JOIN = unary("Join",
            MembershipRequest.getDefaultInstance(), Text.getDefaultInstance());
    public static final MethodDescriptor<MembershipRequest, Empty> LEAVE = unary("Leave",
            MembershipRequest.getDefaultInstance(), Empty.getDefaultInstance());
    public static final MethodDescriptor<SandboxRef, Text> GUEST_NETWORK = unary("GuestNetwork",
            SandboxRef.getDefaultInstance(), Text.getDefaultInstance());
    public static final MethodDescriptor<RemoteMembersRequest, Empty> SET_REMOTE_MEMBERS = unary("SetRemoteMembers",
            RemoteMembersRequest.getDefaultInstance(), Empty.getDefaultInstance());

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> unary(String name, Q request,
            R response) {
        return method(name, MethodType.UNARY, request, response);
    }

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(String name, MethodType type,
            Q request, R response) {
        return MethodDescriptor.<Q, R>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
    }
}
