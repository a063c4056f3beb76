package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One logical stream (one operation) on an {@link AgentConnection}: the events the agent sent, the agent's output
 * channels as {@link StreamInput}s, and the send window for the host's channel 0. The reader thread feeds it through
 * the {@code on…} methods, which never block.
 */
final class AgentStream {
    /** Credit is returned in batches of this size: small enough that the agent never waits on it. */
    private static final long CREDIT_BATCH = Frame.MAX_DATA;

    private final AgentConnection connection;
    private final int id;
    private final String what;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Messages.Event> events = new ArrayDeque<>();
    private final StreamInput[] inputs = new StreamInput[3];
    private final StreamOutput output;
    private long sendWindow = Frame.INITIAL_WINDOW;
    /** Bytes received and not yet credited back: the agent's view of how much of our window it has used. */
    private long outstanding;
    /** Bytes consumed (or dropped) and not yet credited. */
    private long uncredited;
    private Messages.Event error;
    private boolean remoteClosed;
    private boolean localClosed;
    private IOException failure;
    private boolean windowWaitsBounded;

    AgentStream(AgentConnection connection, int id, String what) {
        this.connection = connection;
        this.id = id;
        this.what = what;
        this.output = new StreamOutput(this);
        // Created up front: DATA may arrive before the application asks for the input.
        this.inputs[Frame.STDOUT] = new StreamInput(this);
        this.inputs[Frame.STDERR] = new StreamInput(this);
    }

    int id() {
        return id;
    }

    /** What this stream does, for error messages: "read_file /etc/hosts". */
    String what() {
        return what;
    }

    /** The agent's bytes on {@code channel}: 1 stdout / response body, 2 stderr. */
    StreamInput input(int channel) {
        return inputs[channel];
    }

    StreamOutput output() {
        return output;
    }

    /**
     * The next event from the agent; throws if the stream or the connection ended without one. For events that may
     * be long in coming (a process's exit, a self-signal); an answer the agent owes at once waits with
     * {@link #nextAnswer()}.
     */
    Messages.Event nextEvent() throws IOException {
        return nextEvent(null);
    }

    /**
     * The agent's answer to a request, within the connection's answer timeout: an agent that says nothing (it hangs,
     * the guest is frozen, its port went away without a word) fails the call, and the stream is aborted.
     */
    Messages.Event nextAnswer() throws IOException {
        return nextEvent(connection.answerTimeout());
    }

    /** The next event within {@code timeout} (null: no limit); at the timeout the stream is aborted. */
    Messages.Event nextEvent(Duration timeout) throws IOException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (events.isEmpty()) {
                if (failure != null) {
                    throw new IOException(failure.getMessage(), failure);
                }
                if (remoteClosed) {
                    throw new IOException(what + ": the agent closed the stream without a further event");
                }
                if (timeout == null) {
                    changed.await();
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    changed.awaitNanos(left);
                }
            }
            if (!events.isEmpty()) {
                return events.poll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted while waiting for the agent");
        } finally {
            lock.unlock();
        }
        abort();
        throw new AgentTimeoutException(what + ": the agent at " + connection.peer() + " did not answer within "
                + timeout.toMillis() + " ms (it hangs, or its guest does); the call was aborted");
    }

    /** The agent's error event as an exception, with {@code what} in front so the message names the operation. */
    AgentException errorOf(Messages.Event event) throws ProtocolException {
        Messages.Error e = event.as(Messages.Error.class);
        String code = e.code() == null ? "unknown" : e.code();
        String message = what + ": " + code + (e.message() == null || e.message().isEmpty() ? "" : ": " + e.message());
        return "start_failed".equals(code) ? new ExecStartException(message) : new AgentException(code, message);
    }

    void sendEvent(Object event) throws IOException {
        byte[] payload = Messages.encode(event);
        send(Frame.EVENT, 0, payload, 0, payload.length);
    }

    /** Writes a frame for this stream; frames for a stream the agent has already closed are dropped. */
    void send(int type, int channel, byte[] payload, int offset, int length) throws IOException {
        lock.lock();
        try {
            if (failure != null) {
                throw new IOException(failure.getMessage(), failure);
            }
            if (remoteClosed) {
                return;
            }
        } finally {
            lock.unlock();
        }
        connection.send(id, type, channel, payload, offset, length);
    }

    /**
     * Waits for window with the answer timeout from now on: for uploads, where the agent grants window as soon as it
     * has written (unlike a process's stdin, which may rightly go unread for long).
     */
    void boundWindowWaits() {
        lock.lock();
        try {
            windowWaitsBounded = true;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks the caller until the agent grants window, then takes up to {@code wanted} bytes of it. */
    int acquireSendWindow(int wanted) throws IOException {
        Duration timeout = connection.answerTimeout();
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (sendWindow == 0 || failure != null || remoteClosed || localClosed) {
                if (failure != null) {
                    throw new IOException(failure.getMessage(), failure);
                }
                if (error != null) {
                    throw errorOf(error);
                }
                if (remoteClosed) {
                    throw new IOException(what + ": the agent closed the stream");
                }
                if (localClosed) {
                    throw new IOException(what + ": aborted");
                }
                if (!windowWaitsBounded) {
                    changed.await();
                } else if (changed.awaitNanos(deadline - System.nanoTime()) <= 0 && sendWindow == 0) {
                    lock.unlock();
                    try {
                        abort();
                    } finally {
                        lock.lock();
                    }
                    throw new AgentTimeoutException(what + ": the agent at " + connection.peer()
                            + " took no data for " + timeout.toMillis() + " ms; the transfer was aborted");
                }
            }
            int n = (int) Math.min(wanted, sendWindow);
            sendWindow -= n;
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted while waiting for the agent's window");
        } finally {
            lock.unlock();
        }
    }

    /** Bytes the application consumed or dropped: return them to the agent's window in batches. */
    void consumed(long n, boolean onReaderThread) {
        if (n <= 0) {
            return;
        }
        long credit = 0;
        lock.lock();
        try {
            uncredited += n;
            if (uncredited >= CREDIT_BATCH && !remoteClosed && !localClosed && failure == null) {
                credit = uncredited;
                uncredited = 0;
                outstanding -= credit;
            }
        } finally {
            lock.unlock();
        }
        if (credit > 0) {
            connection.sendWindow(id, credit, onReaderThread);
        }
    }

    /** Sends CLOSE (abort) unless the stream is already over; the agent kills, rolls back or disconnects. */
    void abort() {
        lock.lock();
        try {
            if (localClosed || remoteClosed || failure != null) {
                return;
            }
            localClosed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        connection.sendClose(id);
    }

    void onEvent(Messages.Event event) {
        lock.lock();
        try {
            if (event.is("error")) {
                error = event;
            }
            events.add(event);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void onData(int channel, byte[] data) throws ProtocolException {
        lock.lock();
        try {
            outstanding += data.length;
            if (outstanding > Frame.INITIAL_WINDOW) {
                throw new ProtocolException("the agent overran the window of stream " + id + " (" + what + ") by "
                        + (outstanding - Frame.INITIAL_WINDOW) + " bytes");
            }
        } finally {
            lock.unlock();
        }
        StreamInput input = outputChannel(channel);
        if (input == null || !input.offer(data)) {
            consumed(data.length, true);
        }
    }

    void onEof(int channel) {
        StreamInput input = outputChannel(channel);
        if (input != null) {
            input.end();
        }
    }

    void onWindow(long credit) {
        lock.lock();
        try {
            sendWindow += credit;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The agent's final CLOSE: inputs without EOF end with the agent's error if it sent one, else normally. */
    void onRemoteClose() {
        Messages.Event lastError;
        lock.lock();
        try {
            remoteClosed = true;
            lastError = error;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        IOException cause = null;
        if (lastError != null) {
            try {
                cause = errorOf(lastError);
            } catch (ProtocolException e) {
                cause = e;
            }
        }
        for (int channel = Frame.STDOUT; channel <= Frame.STDERR; channel++) {
            StreamInput input = outputChannel(channel);
            if (input == null) {
                continue;
            }
            if (cause != null) {
                input.fail(cause);
            }
            input.end();
        }
    }

    /** The connection is gone: every waiter and reader of this stream gets {@code cause}. */
    void fail(IOException cause) {
        lock.lock();
        try {
            if (failure == null) {
                failure = cause;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (int channel = Frame.STDOUT; channel <= Frame.STDERR; channel++) {
            StreamInput input = outputChannel(channel);
            if (input != null) {
                input.fail(cause);
            }
        }
    }

    private StreamInput outputChannel(int channel) {
        return channel == Frame.STDOUT || channel == Frame.STDERR ? inputs[channel] : null;
    }
}
