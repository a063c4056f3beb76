package sh.createos.sandbox.server.remote;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.LinkedBlockingQueue;
import sh.createos.sandbox.hostrpc.AgentChunk;
import sh.createos.sandbox.hostrpc.HostRpc;

/**
 * The control plane's end of one {@code Agent} call as the byte pipe {@code AgentClient.over(in, out)} speaks on:
 * what the daemon relays from the guest's agent comes out of {@link #in()}, what is written to {@link #out()} goes
 * to it.
 */
final class AgentStreams {
    private static final byte[] END = new byte[0];

    private final LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    private final StreamObserver<AgentChunk> requests;
    private volatile String failure;

    AgentStreams(Channel channel, String sandboxId) {
        this.requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(HostRpc.AGENT, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(AgentChunk chunk) {
                        received.add(chunk.getData().toByteArray());
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure = t.getMessage();
                        received.add(END);
                    }

                    @Override
                    public void onCompleted() {
                        received.add(END);
                    }
                });
        requests.onNext(AgentChunk.newBuilder().setSandboxId(sandboxId).build());
    }

    InputStream in() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int position;
            private boolean ended;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (position == current.length) {
                    if (ended) {
                        return -1;
                    }
                    try {
                        current = received.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted reading the agent relay");
                    }
                    position = 0;
                    if (current == END) {
                        ended = true;
                        received.add(END); // later reads see the end too
                        if (failure != null) {
                            throw new IOException("agent relay failed: " + failure);
                        }
                        return -1;
                    }
                }
                int n = Math.min(len, current.length - position);
                System.arraycopy(current, position, b, off, n);
                position += n;
                return n;
            }

            @Override
            public void close() {
                ended = true;
            }
        };
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
