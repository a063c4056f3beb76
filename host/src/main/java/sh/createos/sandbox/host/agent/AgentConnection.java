package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multiplexer under {@link AgentClient}: one reader virtual thread demultiplexes the agent's frames into
 * {@link AgentStream}s; writers share one lock. When the byte stream breaks, every open stream fails.
 */
final class AgentConnection implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);
    private static final Duration WRITE_WATCH = Duration.ofMillis(500);

    private final String peer;
    private final FrameReader reader;
    private final FrameWriter writer;
    private final Closeable transport;
    private final Map<Integer, AgentStream> streams = new ConcurrentHashMap<>();
    private int lastStreamId; // guarded by writer.lock(): ids go out in increasing order
    private volatile IOException failure;
    private volatile Duration answerTimeout = defaultAnswerTimeout();

    /** {@code peer} names the other end in error messages ("unix:/var/lib/…/agent.sock"). */
    AgentConnection(String peer, InputStream in, OutputStream out, Closeable transport) {
        this.peer = peer;
        this.reader = new FrameReader(in);
        this.writer = new FrameWriter(out);
        this.transport = transport;
    }

    String peer() {
        return peer;
    }

    /**
     * How long a request waits for the agent's answer (60 s, or {@code -Dcreateos.agent.answer-timeout-ms}): ample
     * for any op the agent answers at once, and a bound for one that hangs (issue 18: no wait without a deadline).
     */
    static Duration defaultAnswerTimeout() {
        return Duration.ofMillis(Long.getLong("createos.agent.answer-timeout-ms", 60_000));
    }

    Duration answerTimeout() {
        return answerTimeout;
    }

    void answerTimeout(Duration timeout) {
        this.answerTimeout = timeout;
    }

    /**
     * Sends HELLO and waits for the agent's answer, at most {@code timeout} (null: no limit), after which the
     * transport is closed. Frames before the answer are skipped: they are leftovers of an earlier connection.
     */
    AgentHello handshake(Duration timeout) throws IOException {
        return checkedHello(Messages.decode(exchangeHello(timeout).payload(), Messages.HelloAnswer.class));
    }

    /** The HELLO exchange of {@link #handshake}, returning the agent's answer frame as it came. */
    Frame exchangeHello(Duration timeout) throws IOException {
        AtomicBoolean timedOut = new AtomicBoolean();
        // Whichever comes first, the answer or the timeout, wins: a watchdog that wakes just as the answer arrives
        // must not close the transport of a handshake that succeeded.
        AtomicBoolean settled = new AtomicBoolean();
        Thread watchdog = timeout == null ? null : Thread.ofVirtual().name("agent-hello-timeout").start(() -> {
            try {
                Thread.sleep(timeout);
                if (settled.compareAndSet(false, true)) {
                    timedOut.set(true);
                    closeTransport();
                }
            } catch (InterruptedException e) {
                // the answer came in time
            }
        });
        try {
            writer.write(0, Frame.HELLO, 0, Messages.encode(new Messages.Hello(Messages.MAGIC, Messages.VERSION)));
            while (true) {
                Frame frame = reader.read();
                if (frame == null) {
                    throw new IOException("the agent at " + peer + " closed the connection before answering HELLO");
                }
                if (frame.stream() == 0 && frame.type() == Frame.HELLO) {
                    if (!settled.compareAndSet(false, true)) {
                        throw new IOException("the HELLO answer of " + peer + " came as the timeout closed it");
                    }
                    return frame;
                }
                log.debug("{}: skipping {} before the HELLO answer", peer, frame);
            }
        } catch (IOException e) {
            if (timedOut.get()) {
                throw new IOException("no HELLO answer from the agent at " + peer + " within " + timeout, e);
            }
            throw e;
        } finally {
            if (watchdog != null) {
                watchdog.interrupt();
            }
        }
    }

    FrameReader reader() {
        return reader;
    }

    FrameWriter writer() {
        return writer;
    }

    AgentHello checkedHello(Messages.HelloAnswer answer) throws ProtocolException {
        if (!Messages.MAGIC.equals(answer.magic())) {
            throw new ProtocolException(peer + " answered HELLO with magic " + answer.magic() + ", not a createos agent");
        }
        if (answer.version() != Messages.VERSION) {
            throw new ProtocolException("the agent at " + peer + " speaks protocol version " + answer.version()
                    + ", this host speaks " + Messages.VERSION);
        }
        return new AgentHello(answer.agent(), answer.kernel(), answer.hostname(), answer.bootMs());
    }

    /** Starts demultiplexing; called once, after the handshake. */
    void start() {
        Thread.ofVirtual().name("agent-reader " + peer).start(this::readLoop);
        Thread.ofVirtual().name("agent-write-watch " + peer).start(this::watchWrites);
    }

    /**
     * A write blocks when the other end reads nothing (a frozen guest or VMM fills the socket): it holds the writer
     * lock, so every call would wait behind it. Past the answer timeout the connection fails, which ends the write.
     */
    private void watchWrites() {
        while (failure == null) {
            try {
                Thread.sleep(WRITE_WATCH);
            } catch (InterruptedException e) {
                return;
            }
            Duration timeout = answerTimeout;
            if (writer.blockedNanos() > timeout.toNanos()) {
                fail(new IOException("a write to the agent at " + peer + " was blocked for more than "
                        + timeout.toMillis() + " ms (the agent reads nothing)"));
            }
        }
    }

    boolean isOpen() {
        return failure == null;
    }

    /** Opens a stream with {@code request} as its OPEN payload; {@code what} names it in errors. */
    AgentStream open(Object request, String what) throws IOException {
        byte[] payload = Messages.encode(request);
        writer.lock().lock();
        try {
            checkOpen();
            AgentStream stream = new AgentStream(this, ++lastStreamId, what);
            streams.put(stream.id(), stream);
            if (failure != null) { // failed between the check and the put, after fail() swept the map
                streams.remove(stream.id());
                checkOpen();
            }
            send(stream.id(), Frame.OPEN, 0, payload, 0, payload.length);
            return stream;
        } finally {
            writer.lock().unlock();
        }
    }

    void send(int stream, int type, int channel, byte[] payload, int offset, int length) throws IOException {
        checkOpen();
        try {
            writer.write(stream, type, channel, payload, offset, length);
        } catch (IOException e) {
            fail(new IOException("lost the connection to the agent at " + peer + ": " + e.getMessage(), e));
            checkOpen();
        }
    }

    /** Returns credit; from the reader thread on a separate thread, because the reader must never block on a write. */
    void sendWindow(int stream, long credit, boolean fromReaderThread) {
        byte[] payload = new byte[4];
        FrameWriter.putInt(payload, 0, (int) credit);
        if (fromReaderThread) {
            Thread.ofVirtual().name("agent-window").start(() -> sendQuietly(stream, Frame.WINDOW, payload));
        } else {
            sendQuietly(stream, Frame.WINDOW, payload);
        }
    }

    void sendClose(int stream) {
        sendQuietly(stream, Frame.CLOSE, new byte[0]);
    }

    /** For frames whose loss only matters if the connection is lost, which fails the streams anyway. */
    private void sendQuietly(int stream, int type, byte[] payload) {
        try {
            send(stream, type, 0, payload, 0, payload.length);
        } catch (IOException e) {
            log.debug("{}: could not send {} on stream {}: {}", peer, Frame.typeName(type), stream, e.getMessage());
        }
    }

    private void checkOpen() throws IOException {
        IOException cause = failure;
        if (cause != null) {
            throw new IOException(cause.getMessage(), cause);
        }
    }

    private void readLoop() {
        try {
            for (Frame frame; (frame = reader.read()) != null; ) {
                dispatch(frame);
            }
            fail(new IOException("the agent at " + peer + " closed the connection"));
        } catch (IOException e) {
            fail(new IOException("lost the connection to the agent at " + peer + ": " + e.getMessage(), e));
        } catch (RuntimeException e) {
            fail(new IOException("agent connection reader for " + peer + " failed: " + e, e));
            throw e;
        }
    }

    private void dispatch(Frame frame) throws IOException {
        if (frame.stream() == 0) {
            log.debug("{}: ignoring {} on stream 0", peer, frame);
            return;
        }
        AgentStream stream = streams.get(frame.stream());
        if (stream == null) {
            log.debug("{}: ignoring {} for a stream that is not open", peer, frame);
            return;
        }
        switch (frame.type()) {
            case Frame.EVENT -> stream.onEvent(Messages.decodeEvent(frame.payload()));
            case Frame.DATA -> stream.onData(frame.channel(), frame.payload());
            case Frame.EOF -> stream.onEof(frame.channel());
            case Frame.WINDOW -> stream.onWindow(windowCredit(frame));
            case Frame.CLOSE -> {
                streams.remove(frame.stream());
                stream.onRemoteClose();
            }
            default -> log.debug("{}: ignoring {}", peer, frame);
        }
    }

    private static long windowCredit(Frame frame) throws ProtocolException {
        byte[] p = frame.payload();
        if (p.length != 4) {
            throw new ProtocolException("WINDOW frame on stream " + frame.stream() + " has " + p.length + " bytes, not 4");
        }
        return ((p[0] & 0xffL) << 24) | ((p[1] & 0xffL) << 16) | ((p[2] & 0xffL) << 8) | (p[3] & 0xffL);
    }

    /** First failure wins: closes the transport and fails every open stream with {@code cause}. */
    private void fail(IOException cause) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = cause;
        }
        log.debug("{}: connection failed: {}", peer, cause.getMessage());
        closeTransport();
        for (AgentStream stream : streams.values()) {
            stream.fail(cause);
        }
        streams.clear();
    }

    private void closeTransport() {
        try {
            transport.close();
        } catch (IOException e) {
            log.debug("{}: closing the transport: {}", peer, e.getMessage());
        }
    }

    /** The agent is known to be gone (its guest port closed): every waiter fails now with {@code reason}. */
    void lost(String reason) {
        fail(new IOException("lost the agent at " + peer + ": " + reason));
    }

    @Override
    public void close() {
        fail(new IOException("the connection to the agent at " + peer + " was closed by the host"));
    }
}
