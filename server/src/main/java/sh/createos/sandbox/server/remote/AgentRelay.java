package sh.createos.sandbox.server.remote;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentMultiplexer;
import sh.createos.sandbox.hostrpc.AgentChunk;
import sh.createos.sandbox.server.host.LocalHost;

/**
 * The daemon's end of one {@code Agent} call: the first message names the sandbox; the call is then a session of
 * the sandbox's {@link AgentMultiplexer}, so any number of callers (control-plane replicas, this daemon itself)
 * share the agent's one connection, each speaking the agent protocol as if it had it alone. The caller going away
 * aborts its own streams; the agent's connection ending (the VM paused, destroyed or gone) ends the call.
 */
final class AgentRelay implements StreamObserver<AgentChunk> {
    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);

    private final LocalHost host;
    private final StreamObserver<AgentChunk> responses;
    private AgentMultiplexer.Session session;
    private String sandboxId;
    private boolean finished; // guarded by responses

    AgentRelay(LocalHost host, StreamObserver<AgentChunk> responses) {
        this.host = host;
        this.responses = responses;
    }

    @Override
    public void onNext(AgentChunk chunk) {
        try {
            if (session == null) {
                sandboxId = chunk.getSandboxId();
                session = host.agentMultiplexer(sandboxId).attach(this::toCaller, this::complete);
            }
            if (!chunk.getData().isEmpty()) {
                session.fromCaller(chunk.getData().toByteArray());
            }
        } catch (IOException | RuntimeException e) {
            log.info("agent relay of sandbox {} failed: {}", sandboxId, e.getMessage());
            if (session != null) {
                session.close();
            }
            synchronized (responses) {
                if (!finished) {
                    finished = true;
                    responses.onError(RpcErrors.toStatus(e));
                }
            }
        }
    }

    private void toCaller(byte[] frame) {
        synchronized (responses) {
            if (!finished) {
                responses.onNext(AgentChunk.newBuilder().setData(ByteString.copyFrom(frame)).build());
            }
        }
    }

    private void complete() {
        synchronized (responses) {
            if (!finished) {
                finished = true;
                responses.onCompleted();
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        onCompleted();
    }

    @Override
    public void onCompleted() {
        if (session != null) {
            session.close();
        }
        try {
            complete();
        } catch (RuntimeException alreadyCancelled) {
            log.debug("agent relay of sandbox {}: {}", sandboxId, alreadyCancelled.toString());
        }
    }
}
