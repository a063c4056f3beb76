package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.IOException;

/**
 * A {@code proc_connect} stream: the retained chunks after the requested sequence number, then live output, ending
 * with an {@link ProcessOutputFrame.Exit} or {@link ProcessOutputFrame.Expired}. The agent sends a chunk's bytes only
 * as far as this reader takes them (flow control), so a slow reader holds no more than a window in memory.
 * {@link #close()} ends the stream only; the process keeps running.
 */
public final class ProcessOutput implements Closeable {
    private final AgentStream stream;
    private final StreamInput data;
    private Messages.Event pending;
    private boolean ended;

    /** {@code pending}: an event already taken from the stream, to be returned first. */
    ProcessOutput(AgentStream stream, Messages.Event pending) {
        this.stream = stream;
        this.data = stream.input(Frame.STDOUT);
        this.pending = pending;
    }

    /** The next frame, blocking; null after the last one. */
    public ProcessOutputFrame next() throws IOException {
        if (ended) {
            return null;
        }
        Messages.Event event = pending != null ? pending : stream.nextEvent();
        pending = null;
        switch (event.type()) {
            case "chunk" -> {
                ChunkHeader h = event.as(ChunkHeader.class);
                byte[] bytes = data.readNBytes(h.size());
                if (bytes.length != h.size()) {
                    throw new ProtocolException(stream.what() + ": chunk " + h.seq() + " ended after " + bytes.length
                            + " of " + h.size() + " bytes");
                }
                return new ProcessOutputFrame.Chunk(h.seq(), h.stream(), bytes);
            }
            case "heartbeat" -> {
                return new ProcessOutputFrame.Heartbeat();
            }
            case "exit" -> {
                ended = true;
                Messages.Exit exit = event.as(Messages.Exit.class);
                return new ProcessOutputFrame.Exit(exit.code(), exit.signal());
            }
            case "expired" -> {
                ended = true;
                return new ProcessOutputFrame.Expired(event.body().path("oldest_seq").asLong());
            }
            case "error" -> throw stream.errorOf(event);
            default -> throw new ProtocolException(stream.what() + ": unexpected event " + event);
        }
    }

    @Override
    public void close() {
        ended = true;
        stream.abort();
    }

    record ChunkHeader(long seq, String stream, int size) {}
}
