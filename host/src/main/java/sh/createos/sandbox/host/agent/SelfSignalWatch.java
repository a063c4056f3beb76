package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open {@code watch} stream: a virtual thread hands each self-signal to the listener, in order. Signals the agent
 * queued while nobody watched arrive first. It ends when closed or when the connection to the agent ends.
 */
public final class SelfSignalWatch implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(SelfSignalWatch.class);

    private final AgentStream stream;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile boolean closed;

    SelfSignalWatch(AgentStream stream, Consumer<SelfSignal> listener) {
        this.stream = stream;
        Thread.ofVirtual().name("agent-watch " + stream.id()).start(() -> deliver(listener));
    }

    private void deliver(Consumer<SelfSignal> listener) {
        try {
            while (true) {
                Messages.Event event = stream.nextEvent();
                if (event.is("self")) {
                    listener.accept(event.as(SelfSignal.class));
                } else if (event.is("error")) {
                    throw stream.errorOf(event);
                } else {
                    log.debug("{}: ignoring event {}", stream.what(), event);
                }
            }
        } catch (IOException e) {
            if (closed) {
                ended.complete(null);
            } else {
                ended.completeExceptionally(e);
            }
        } catch (RuntimeException e) {
            log.warn("{}: the self-signal listener failed; watch ended", stream.what(), e);
            stream.abort();
            ended.completeExceptionally(e);
        }
    }

    /** Completes when the watch ends: normally after {@link #close()}, exceptionally when the connection ended. */
    public CompletableFuture<Void> ended() {
        return ended;
    }

    /** Stops watching; signals that arrive afterwards stay queued in the agent for the next watch. */
    @Override
    public void close() {
        closed = true;
        stream.abort();
    }
}
