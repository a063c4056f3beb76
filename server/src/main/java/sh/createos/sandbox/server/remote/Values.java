package sh.createos.sandbox.server.remote;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import sh.createos.sandbox.host.agent.GuestNetwork;
import sh.createos.sandbox.hostrpc.SnapshotReply;
import sh.createos.sandbox.hostrpc.StartedReply;
import sh.createos.sandbox.hostrpc.TrafficReply;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.Traffic;
import sh.createos.sandbox.server.host.VmShape;

/** The Host seam's values and their protobuf messages, both ways. */
final class Values {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Values() {}

    static String guestNetwork(GuestNetwork network) {
        try {
            return JSON.writeValueAsString(network);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + network, e);
        }
    }

    static GuestNetwork guestNetwork(String json) {
        try {
            return JSON.readValue(json, GuestNetwork.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a guest network: " + json, e);
        }
    }

    static sh.createos.sandbox.hostrpc.VmShape shape(VmShape shape) {
        return sh.createos.sandbox.hostrpc.VmShape.newBuilder().setImage(shape.image()).setVcpus(shape.vcpus())
                .setMemMib(shape.memMib()).setDiskMib(shape.diskMib()).setHostname(shape.hostname()).build();
    }

    static VmShape shape(sh.createos.sandbox.hostrpc.VmShape shape) {
        return new VmShape(shape.getImage(), shape.getVcpus(), shape.getMemMib(), shape.getDiskMib(),
                shape.getHostname());
    }

    static StartedReply started(Started started) {
        return StartedReply.newBuilder().setHow(started.how()).setTookMs(started.tookMs()).build();
    }

    static Started started(StartedReply reply) {
        return new Started(reply.getHow(), reply.getTookMs());
    }

    static SnapshotReply snapshot(SnapshotRef ref) {
        return SnapshotReply.newBuilder().setSandboxId(ref.sandboxId()).setHostId(ref.hostId())
                .setPausedAtMs(ref.pausedAt().toEpochMilli()).setBytes(ref.bytes()).build();
    }

    static SnapshotRef snapshot(SnapshotReply reply) {
        return new SnapshotRef(reply.getSandboxId(), reply.getHostId(), Instant.ofEpochMilli(reply.getPausedAtMs()),
                reply.getBytes());
    }

    static TrafficReply traffic(Traffic traffic) {
        return TrafficReply.newBuilder().setQuotaBytes(traffic.quotaBytes()).setUsedBytes(traffic.usedBytes())
                .setIngressBytes(traffic.ingressBytes()).setCapped(traffic.capped()).build();
    }

    static Traffic traffic(TrafficReply reply) {
        return new Traffic(reply.getQuotaBytes(), reply.getUsedBytes(), reply.getIngressBytes(), reply.getCapped());
    }
}
