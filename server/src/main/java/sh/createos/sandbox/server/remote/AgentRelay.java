package sh.createos.sandbox.server.remote;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.hostrpc.AgentChunk;
import sh.createos.sandbox.server.host.LocalHost;

/**
 * The daemon's end of one {@code Agent} call: the first message names the sandbox, whose agent connection is then
 * piped both ways, byte for byte (the agent protocol multiplexes and flow-controls its own streams). The call ending
 * from either side closes the connection, which ends the agent session (its streams are aborted).
 *
 * <p>The agent serves one connection at a time, so a sandbox has one relay: a newer call for it (another
 * control-plane replica's) ends the older one, whose caller reconnects when it next needs the agent, instead of
 * the newer waiting forever behind it.
 */
final class AgentRelay implements StreamObserver<AgentChunk> {
    private static final Logger log = LoggerFactory.getLogger(AgentRelay.class);
    /** The agent's frames are at most 32 KiB; one read fills a chunk of at most that. */
    private static final int CHUNK = 32 * 1024;

    private final LocalHost host;
    private final StreamObserver<AgentChunk> responses;
    private final java.util.Map<String, AgentRelay> current;
    private volatile SocketChannel agent;
    private String sandboxId;

    /** @param current the relay of each sandbox, shared by the daemon's calls */
    AgentRelay(LocalHost host, StreamObserver<AgentChunk> responses, java.util.Map<String, AgentRelay> current) {
        this.host = host;
        this.responses = responses;
        this.current = current;
    }

    @Override
    public void onNext(AgentChunk chunk) {
        try {
            if (agent == null) {
                sandboxId = chunk.getSandboxId();
                AgentRelay previous = current.put(sandboxId, this);
                if (previous != null) {
                    log.info("agent relay of sandbox {}: a newer call takes the agent over", sandboxId);
                    previous.closeAgent();
                }
                agent = host.openAgentPipe(sandboxId);
                Thread.ofVirtual().name("agent-relay-" + sandboxId).start(this::toCaller);
            }
            ByteBuffer data = chunk.getData().asReadOnlyByteBuffer();
            while (data.hasRemaining()) {
                agent.write(data);
            }
        } catch (IOException | RuntimeException e) {
            log.info("agent relay of sandbox {} failed: {}", sandboxId, e.getMessage());
            closeAgent();
            synchronized (responses) {
                responses.onError(RpcErrors.toStatus(e));
            }
        }
    }

    private void toCaller() {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        try {
            while (agent.read(buffer) >= 0) {
                buffer.flip();
                AgentChunk out = AgentChunk.newBuilder().setData(ByteString.copyFrom(buffer)).build();
                synchronized (responses) {
                    responses.onNext(out);
                }
                buffer.clear();
            }
            synchronized (responses) {
                responses.onCompleted();
            }
        } catch (IOException | RuntimeException e) {
            // the caller went away (the connection is closed under us) or the VM did
            log.debug("agent relay of sandbox {} ended: {}", sandboxId, e.toString());
            try {
                synchronized (responses) {
                    responses.onCompleted();
                }
            } catch (RuntimeException alreadyDone) {
                // the call is over already
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        closeAgent();
    }

    @Override
    public void onCompleted() {
        closeAgent();
    }

    private void closeAgent() {
        if (sandboxId != null) {
            current.remove(sandboxId, this);
        }
        SocketChannel channel = agent;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                log.debug("closing the agent relay of sandbox {}: {}", sandboxId, e.toString());
            }
        }
    }
}
