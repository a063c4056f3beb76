package sh.createos.sandbox.server.remote;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import sh.createos.sandbox.host.agent.ChunkInputStream;
import sh.createos.sandbox.hostrpc.AgentChunk;
import sh.createos.sandbox.hostrpc.HostRpc;

/**
 * The control plane's end of one {@code Agent} call as the byte pipe {@code AgentClient.over(in, out)} speaks on:
 * what the daemon relays from the guest's agent comes out of {@link #in()}, what is written to {@link #out()} goes
 * to it.
 */
final class AgentStreams {
    private final ChunkInputStream received = new ChunkInputStream("agent relay");
    private final StreamObserver<AgentChunk> requests;

    AgentStreams(Channel channel, String sandboxId) {
        this.requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(HostRpc.AGENT, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(AgentChunk chunk) {
                        received.add(chunk.getData().toByteArray());
                    }

                    @Override
                    public void onError(Throwable t) {
                        received.fail(t.getMessage());
                    }

                    @Override
                    public void onCompleted() {
                        received.end();
                    }
                });
        requests.onNext(AgentChunk.newBuilder().setSandboxId(sandboxId).build());
    }

    InputStream in() {
        return received;
    }

    OutputStream out() {
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) throws IOException {
                if (closed) {
                    throw new IOException("agent relay closed");
                }
                try {
                    requests.onNext(AgentChunk.newBuilder().setData(ByteString.copyFrom(b, off, len)).build());
                } catch (RuntimeException e) {
                    throw new IOException("agent relay failed: " + e.getMessage(), e);
                }
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    try {
                        requests.onCompleted();
                    } catch (RuntimeException ignored) {
                        // the call ended already
                    }
                }
            }
        };
    }
}
