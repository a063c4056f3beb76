package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the QEMU Machine Protocol: JSON objects over a Unix socket. On connect QEMU sends a greeting and the
 * client enters command mode with {@code qmp_capabilities}; then each command carries an {@code id} that its
 * {@code return} or {@code error} answer echoes, and QEMU interleaves asynchronous {@code event}s.
 */
public final class QmpClient implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final Path socket;
    private final SocketChannel channel;
    private final OutputStream out;
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> closeListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile boolean open = true;

    private record Pending(String command, CompletableFuture<JsonNode> answer) {}

    private QmpClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
        this.out = Channels.newOutputStream(channel);
        InputStream in = Channels.newInputStream(channel);
        Thread.ofVirtual().name("qmp-reader " + socket).start(() -> readLoop(in));
    }

    /** Connects, waits for the greeting and negotiates capabilities, all within {@code timeout}. */
    public static QmpClient connect(Path socket, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        }
        QmpClient client = new QmpClient(socket, channel);
        try {
            client.await("greeting", client.greeting, remaining(deadline));
            client.execute("qmp_capabilities", Map.of(), remaining(deadline));
            return client;
        } catch (IOException e) {
            client.close();
            throw e;
        }
    }

    /** Runs {@code command} without arguments; see {@link #execute(String, Map, Duration)}. */
    public JsonNode execute(String command) throws IOException {
        return execute(command, Map.of(), COMMAND_TIMEOUT);
    }

    public JsonNode execute(String command, Map<String, ?> arguments) throws IOException {
        return execute(command, arguments, COMMAND_TIMEOUT);
    }

    /** Runs {@code command} and returns its {@code return} value; a QMP error answer becomes a {@link QmpException}. */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) throws IOException {
        String id = Long.toString(ids.incrementAndGet());
        ObjectNode request = JSON.createObjectNode().put("execute", command).put("id", id);
        if (!arguments.isEmpty()) {
            request.set("arguments", JSON.valueToTree(arguments));
        }
        Pending call = new Pending(command, new CompletableFuture<>());
        pending.put(id, call);
        try {
            if (!open) {
                throw new IOException("QMP connection " + socket + " is closed");
            }
            send(JSON.writeValueAsBytes(request));
            return await("answer to " + command, call.answer(), timeout);
        } finally {
            pending.remove(id);
        }
    }

    private void send(byte[] message) throws IOException {
        try {
            synchronized (out) {
                out.write(message);
                out.write('\n');
                out.flush();
            }
        } catch (ClosedChannelException e) {
            throw new IOException("QMP connection " + socket + " is closed", e);
        } catch (IOException e) {
            throw new IOException("QMP connection " + socket + " failed: " + e.getMessage(), e);
        }
    }

    /** Calls {@code listener} on the reader thread for every event that arrives from now on. */
    public void onEvent(Consumer<QmpEvent> listener) {
        listeners.add(listener);
    }

    /** Calls {@code listener} once the connection has ended (QEMU closed it, or {@link #close()}). */
    public void onClose(Runnable listener) {
        closeListeners.add(listener);
        if (!open) {
            listener.run();
        }
    }

    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing QMP socket {}: {}", socket, e.toString());
        }
    }

    private void readLoop(InputStream in) {
        IOException failure = new IOException("QMP connection " + socket + " closed by QEMU");
        try (MappingIterator<JsonNode> messages = JSON.readerFor(JsonNode.class).readValues(in)) {
            while (messages.hasNextValue()) {
                dispatch(messages.nextValue());
            }
        } catch (IOException | RuntimeException e) {
            if (open) {
                failure = new IOException("QMP connection " + socket + " failed: " + e.getMessage(), e);
            }
        } finally {
            open = false;
            greeting.completeExceptionally(failure);
            for (Pending call : pending.values()) {
                call.answer().completeExceptionally(failure);
            }
            closeListeners.forEach(Runnable::run);
        }
    }

    private void dispatch(JsonNode message) {
        if (message.has("QMP")) {
            greeting.complete(message);
        } else if (message.has("event")) {
            QmpEvent event = new QmpEvent(message.get("event").asText(), message.path("data"));
            log.debug("QMP {} event {}", socket, event);
            listeners.forEach(listener -> listener.accept(event));
        } else if (message.has("id")) {
            Pending call = pending.get(message.get("id").asText());
            if (call == null) {
                log.debug("QMP {}: answer to a command nobody waits for: {}", socket, message);
            } else if (message.has("error")) {
                JsonNode error = message.get("error");
                call.answer().completeExceptionally(
                        new QmpException(call.command(), error.path("class").asText(), error.path("desc").asText()));
            } else {
                call.answer().complete(message.path("return"));
            }
        } else {
            log.debug("QMP {}: unexpected message {}", socket, message);
        }
    }

    private JsonNode await(String what, CompletableFuture<JsonNode> future, Duration timeout) throws IOException {
        try {
            return future.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IOException("no QMP " + what + " from " + socket + " within " + timeout);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof QmpException error) {
                throw error;
            }
            if (e.getCause() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("QMP " + what + " from " + socket + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for QMP " + what);
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(deadline - System.nanoTime());
    }
}
