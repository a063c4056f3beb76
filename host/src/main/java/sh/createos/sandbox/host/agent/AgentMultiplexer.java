package sh.createos.sandbox.host.agent;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent connection shared by many callers, each speaking the agent protocol as if it had the connection to
 * itself: the guest's agent serves one connection at a time (a virtio-serial port has one host end), and more than
 * one party needs it at once (two control-plane replicas, the host daemon itself).
 *
 * <p>The multiplexer holds the session with the agent (one HELLO); a {@link Session} answers its caller's HELLO
 * with the agent's answer and gives every stream its caller opens a fresh id on the shared connection (ids go out
 * in increasing order, as the protocol requires), mapping the agent's frames back. Flow control needs nothing of it:
 * windows are per stream and frames pass unchanged but for the id. A caller's HELLO on an established session, or
 * its going away, aborts that caller's streams only ({@code CLOSE}, as a disconnect would); the agent's connection
 * ending ends every session.
 */
public final class AgentMultiplexer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(AgentMultiplexer.class);

    private final String peer;
    private final FrameReader reader;
    private final FrameWriter writer;
    private final Closeable transport;
    private final byte[] helloAnswer;
    /** Agent-side stream id to the caller's stream it carries. */
    private final Map<Integer, Route> routes = new ConcurrentHashMap<>();
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private int lastId; // guarded by writer.lock()

    private record Route(Epoch epoch, int callerId) {}

    private AgentMultiplexer(String peer, FrameReader reader, FrameWriter writer, Closeable transport,
            byte[] helloAnswer) {
        this.peer = peer;
        this.reader = reader;
        this.writer = writer;
        this.transport = transport;
        this.helloAnswer = helloAnswer;
    }

    /**
     * Greets the agent on {@code in}/{@code out} (closing {@code transport} ends it) and starts relaying its frames;
     * fails when it does not answer HELLO within {@code timeout}.
     */
    public static AgentMultiplexer open(String peer, InputStream in, OutputStream out, Closeable transport,
            Duration timeout) throws IOException {
        // The connection only greets the agent here: the multiplexer reads and writes its frames from then on.
        AgentConnection greeting = new AgentConnection(peer, in, out, transport);
        try {
            Frame answer = greeting.exchangeHello(timeout);
            greeting.checkedHello(Messages.decode(answer.payload(), Messages.HelloAnswer.class));
            AgentMultiplexer mux = new AgentMultiplexer(peer, greeting.reader(), greeting.writer(), transport,
                    answer.payload());
            Thread.ofVirtual().name("agent-mux " + peer).start(mux::readLoop);
            return mux;
        } catch (IOException | RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    /**
     * A caller's view of the connection: what it writes goes to {@link Session#fromCaller}, what the agent answers
     * it comes out of {@code toCaller} (whole frames, in order; called by the multiplexer's reader and, for the
     * HELLO answer, by the caller's thread, so it must be thread-safe), and {@code ended} runs once when the
     * agent's connection ends (not when the caller closes the session).
     */
    public Session attach(Consumer<byte[]> toCaller, Runnable ended) throws IOException {
        Session session = new Session(toCaller, ended);
        sessions.add(session);
        if (closed.get()) {
            sessions.remove(session);
            throw new IOException("the agent connection of " + peer + " has ended");
        }
        return session;
    }

    /** A client of its own on a new session: this host's calls beside the callers it relays. */
    public AgentClient client() throws IOException {
        ChunkInputStream in = new ChunkInputStream("agent multiplexer of " + peer);
        Session session = attach(in::add, in::end);
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                session.fromCaller(java.util.Arrays.copyOfRange(b, off, off + len));
            }

            @Override
            public void close() {
                session.close();
                in.end();
            }
        };
        return AgentClient.over(in, out);
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /** How many callers share the connection now. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Ends the connection to the agent, and with it every session. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            transport.close();
        } catch (IOException e) {
            log.debug("closing the agent connection of {}: {}", peer, e.toString());
        }
        for (Session session : sessions) {
            session.agentEnded();
        }
        sessions.clear();
    }

    private void readLoop() {
        try {
            Frame frame;
            while ((frame = reader.read()) != null) {
                if (frame.stream() == 0) {
                    continue; // only HELLO travels on stream 0, and the session with the agent has had its own
                }
                Route route = frame.type() == Frame.CLOSE ? routes.remove(frame.stream()) : routes.get(frame.stream());
                if (route != null) {
                    route.epoch.deliver(route.callerId, frame);
                }
            }
            log.debug("the agent connection of {} ended", peer);
        } catch (IOException e) {
            if (!closed.get()) {
                log.debug("the agent connection of {} failed: {}", peer, e.toString());
            }
        } finally {
            close();
        }
    }

    private static byte[] encode(int stream, Frame frame) {
        byte[] bytes = new byte[Frame.HEADER_BYTES + frame.payload().length];
        FrameWriter.putInt(bytes, 0, stream);
        bytes[4] = (byte) frame.type();
        bytes[5] = (byte) frame.channel();
        FrameWriter.putInt(bytes, 6, frame.payload().length);
        System.arraycopy(frame.payload(), 0, bytes, Frame.HEADER_BYTES, frame.payload().length);
        return bytes;
    }

    /** The streams of one caller's session with the agent (until its next HELLO or its end). */
    private final class Epoch {
        final Session session;
        /** The caller's stream id to the agent-side id. */
        final Map<Integer, Integer> streams = new ConcurrentHashMap<>();
        volatile boolean over;
        int lastCallerId;

        Epoch(Session session) {
            this.session = session;
        }

        void deliver(int callerId, Frame frame) {
            if (frame.type() == Frame.CLOSE) {
                streams.remove(callerId);
            }
            if (!over) {
                session.send(encode(callerId, frame));
            }
        }

        /** Aborts every stream still open, as the agent does for a caller that disconnects. */
        void end() throws IOException {
            over = true;
            for (int agentId : streams.values()) {
                writer.write(agentId, Frame.CLOSE, 0, new byte[0]);
            }
        }
    }

    /** One caller. Its frames may arrive in pieces of any size; {@link #fromCaller} is called by one thread at a time. */
    public final class Session implements Closeable {
        private final Consumer<byte[]> toCaller;
        private final Runnable ended;
        private final FrameBuffer buffer = new FrameBuffer();
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile Epoch epoch; // null until the caller's HELLO

        private Session(Consumer<byte[]> toCaller, Runnable ended) {
            this.toCaller = toCaller;
            this.ended = ended;
        }

        /** Bytes the caller wrote; a protocol error of the caller ends its session (and only its). */
        public synchronized void fromCaller(byte[] bytes) throws IOException {
            if (done.get()) {
                throw new IOException("this session with the agent of " + peer + " has ended");
            }
            buffer.add(bytes);
            Frame frame;
            while ((frame = buffer.next()) != null) {
                handle(frame);
            }
        }

        private void handle(Frame frame) throws IOException {
            if (frame.stream() == 0) {
                if (frame.type() == Frame.HELLO) {
                    if (epoch != null) {
                        epoch.end();
                    }
                    epoch = new Epoch(this);
                    send(encode(0, new Frame(0, Frame.HELLO, 0, helloAnswer)));
                }
                return;
            }
            if (epoch == null) {
                return; // before its HELLO, as the agent skips them
            }
            if (frame.type() == Frame.OPEN) {
                if (Integer.compareUnsigned(frame.stream(), epoch.lastCallerId) <= 0) {
                    throw new ProtocolException("OPEN of stream " + Integer.toUnsignedString(frame.stream())
                            + " after stream " + Integer.toUnsignedString(epoch.lastCallerId));
                }
                epoch.lastCallerId = frame.stream();
                writer.lock().lock();
                try {
                    int agentId = ++lastId;
                    routes.put(agentId, new Route(epoch, frame.stream()));
                    epoch.streams.put(frame.stream(), agentId);
                    writer.write(agentId, frame.type(), frame.channel(), frame.payload());
                } finally {
                    writer.lock().unlock();
                }
                return;
            }
            Integer agentId = epoch.streams.get(frame.stream());
            if (agentId != null) {
                writer.write(agentId, frame.type(), frame.channel(), frame.payload());
            }
        }

        private void send(byte[] frame) {
            if (!done.get()) {
                toCaller.accept(frame);
            }
        }

        private void agentEnded() {
            if (done.compareAndSet(false, true)) {
                ended.run();
            }
        }

        /** The caller went away: its streams are aborted; the connection and the other sessions go on. */
        @Override
        public void close() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            sessions.remove(this);
            if (epoch != null) {
                try {
                    epoch.end();
                } catch (IOException e) {
                    log.debug("aborting the streams of a session with {}: {}", peer, e.toString());
                }
            }
        }
    }

    /** Reassembles frames from the pieces a caller's bytes arrive in. */
    private static final class FrameBuffer {
        private byte[] data = new byte[0];
        private int start;
        private int end;

        void add(byte[] bytes) {
            if (end + bytes.length > data.length) {
                byte[] grown = new byte[Math.max(end - start + bytes.length, 2 * (end - start))];
                System.arraycopy(data, start, grown, 0, end - start);
                end -= start;
                start = 0;
                data = grown;
            }
            System.arraycopy(bytes, 0, data, end, bytes.length);
            end += bytes.length;
        }

        /** The next whole frame, or null until more bytes come. */
        Frame next() throws ProtocolException {
            if (end - start < Frame.HEADER_BYTES) {
                return null;
            }
            long length = Integer.toUnsignedLong(intAt(start + 6));
            if (length > Frame.MAX_PAYLOAD) {
                throw new ProtocolException("a frame of " + length + " bytes, more than the limit of " + Frame.MAX_PAYLOAD);
            }
            if (end - start < Frame.HEADER_BYTES + length) {
                return null;
            }
            byte[] payload = new byte[(int) length];
            System.arraycopy(data, start + Frame.HEADER_BYTES, payload, 0, (int) length);
            Frame frame = new Frame(intAt(start), data[start + 4] & 0xff, data[start + 5] & 0xff, payload);
            start += Frame.HEADER_BYTES + (int) length;
            return frame;
        }

        private int intAt(int at) {
            return ((data[at] & 0xff) << 24) | ((data[at + 1] & 0xff) << 16) | ((data[at + 2] & 0xff) << 8)
                    | (data[at + 3] & 0xff);
        }
    }
}
