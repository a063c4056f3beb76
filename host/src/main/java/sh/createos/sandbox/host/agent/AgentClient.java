package sh.createos.sandbox.host.agent;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's side of the agent protocol (docs/agent-protocol.md): one connection to the agent of one VM, on which
 * any number of operations run concurrently, each on its own flow-controlled stream. Thread-safe.
 */
public final class AgentClient implements Closeable {
    /** The guest's self-signal endpoint (127.0.0.1:1029): reachable from inside the guest only (spec §13). */
    public static final int SELF_SIGNAL_PORT = 1029;
    private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
    /** How long one connection waits for HELLO before reconnecting; a booting guest opens its port late. */
    private static final Duration HELLO_ATTEMPT = Duration.ofSeconds(3);
    private static final Duration RETRY_PAUSE = Duration.ofMillis(50);
    private static final int DIR_MODE = 0755;

    private final AgentConnection connection;
    private final AgentHello hello;

    private AgentClient(AgentConnection connection, AgentHello hello) {
        this.connection = connection;
        this.hello = hello;
        connection.start();
    }

    /**
     * Connects to the agent behind a Unix socket, retrying while the socket is missing or refuses (the VMM is
     * starting) and while HELLO goes unanswered (the guest is booting), until {@code timeout} has passed.
     */
    public static AgentClient connect(Path unixSocket, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String peer = "unix:" + unixSocket;
        IOException last = null;
        int attempts = 0;
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                String reason = last == null ? "no attempt fitted in the timeout" : String.valueOf(last);
                IOException e = new IOException("the agent at " + peer + " did not answer within " + timeout
                        + " (" + attempts + " attempts); last error: " + reason);
                if (last != null) {
                    e.addSuppressed(last);
                }
                throw e;
            }
            attempts++;
            SocketChannel channel = null;
            try {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(unixSocket));
                AgentConnection connection = new AgentConnection(peer,
                        Channels.newInputStream(channel), Channels.newOutputStream(channel), channel);
                Duration wait = Duration.ofNanos(Math.min(remaining, HELLO_ATTEMPT.toNanos()));
                AgentHello hello = connection.handshake(wait);
                log.debug("connected to {} after {} attempts: {}", peer, attempts, hello);
                return new AgentClient(connection, hello);
            } catch (ProtocolException e) {
                closeQuietly(channel);
                throw e;
            } catch (IOException e) {
                closeQuietly(channel);
                last = e;
                log.trace("connecting to {}: {}", peer, e.getMessage());
            }
            try {
                Thread.sleep(Math.min(RETRY_PAUSE.toMillis(), Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while connecting to " + peer);
            }
        }
    }

    /** Speaks the protocol over any byte pipe (a child agent's stdio in tests); blocks until HELLO is answered. */
    public static AgentClient over(InputStream in, OutputStream out) throws IOException {
        AgentConnection connection = new AgentConnection("pipe", in, out, () -> {
            try {
                out.close();
            } finally {
                in.close();
            }
        });
        return new AgentClient(connection, connection.handshake(connection.answerTimeout()));
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                log.trace("closing a failed agent socket: {}", e.getMessage());
            }
        }
    }

    public AgentHello hello() {
        return hello;
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    /**
     * How long each request waits for the agent's answer (default 60 s, see {@code createos.agent.answer-timeout-ms}):
     * the start of an exec, a stat, a configure, the end of an upload. A process's output and exit, and self-signals,
     * come when they come and are not bounded by it.
     */
    public AgentClient answerTimeout(Duration timeout) {
        connection.answerTimeout(timeout);
        return this;
    }

    /**
     * The agent is gone though its byte stream is not (its guest closed the port: QEMU's {@code VSERPORT_CHANGE}):
     * every call waiting on it fails at once with {@code reason}, and every later call too.
     */
    public void lost(String reason) {
        connection.lost(reason);
    }

    /** The round trip of one ping through the agent. */
    public Duration ping() throws IOException {
        long start = System.nanoTime();
        expect(call(new Messages.Ping("ping"), "ping"), "pong", "ping");
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** Starts a process; throws {@link ExecStartException} when the agent could not start it. */
    public ExecSession exec(ExecRequest request) throws IOException {
        String what = "exec " + request.argv();
        AgentStream stream = connection.open(new Messages.Exec("exec", request.argv(),
                request.env().isEmpty() ? null : request.env(), request.cwd(), request.user(), request.pty(),
                request.stdin()), what);
        Messages.Event event = stream.nextAnswer();
        if (event.is("error")) {
            throw stream.errorOf(event);
        }
        expect(event, "started", what);
        return new AgentExecSession(stream, event.as(Messages.Started.class).pid(), request.stdin());
    }

    /** Runs a process to its end and returns its output; stdin, if requested, is closed at once. */
    public ExecResult run(ExecRequest request) throws IOException {
        try (ExecSession session = exec(request)) {
            if (request.stdin()) {
                session.stdin().close();
            }
            FutureTask<String> stderr = new FutureTask<>(() -> readAll(session.stderr()));
            Thread.ofVirtual().name("agent-run-stderr").start(stderr);
            String stdout = readAll(session.stdout());
            ExitStatus status = session.waitFor();
            return new ExecResult(stdout, stderr.get(), status.code());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + request.argv());
        } catch (ExecutionException e) {
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * {@link #run(ExecRequest)} with a deadline: an agent that stops answering (it died in the guest, the guest hangs,
     * the virtio-serial channel stays open without a word) fails the call instead of holding its caller forever. At
     * the deadline the command's stream is aborted (the agent kills it, if it still can).
     */
    public ExecResult run(ExecRequest request, java.time.Duration deadline) throws IOException {
        FutureTask<ExecResult> task = new FutureTask<>(() -> run(request));
        Thread worker = Thread.ofVirtual().name("agent-run " + request.argv().get(0)).start(task);
        try {
            return task.get(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            worker.interrupt(); // its wait ends, and closing its session aborts the stream
            throw new IOException("`" + String.join(" ", request.argv()) + "` in the guest did not finish within "
                    + deadline.toSeconds() + " s (the agent does not answer, or the command hangs); it was aborted");
        } catch (InterruptedException e) {
            worker.interrupt();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + request.argv());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Streams {@code content} into {@code path} (parent directories created), replacing it atomically once
     * complete; returns the size the agent wrote. Memory use is independent of the content's size.
     */
    public long writeFile(String path, InputStream content, int mode) throws IOException {
        String what = "write_file " + path;
        AgentStream stream = connection.open(new Messages.WriteFile("write_file", path, mode, true), what);
        stream.boundWindowWaits();
        OutputStream out = stream.output();
        try {
            byte[] buffer = new byte[Frame.MAX_DATA];
            for (int n; (n = content.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            stream.abort(); // the agent discards the partial file
            throw e;
        }
        out.close(); // EOF: the agent renames the complete file into place
        return expect(call(stream, what), "ok", what).as(Messages.FileOk.class).size();
    }

    /** Opens a file for streaming; the agent sends no more than the window ahead of the reader. */
    public FileDownload readFile(String path) throws IOException {
        String what = "read_file " + path;
        AgentStream stream = connection.open(new Messages.PathOp("read_file", path), what);
        Messages.FileOk ok = expect(call(stream, what), "ok", what).as(Messages.FileOk.class);
        StreamInput content = stream.input(Frame.STDOUT);
        content.abortStreamOnEarlyClose();
        return new FileDownload(ok.size(), ok.mode(), content);
    }

    public FileStat stat(String path) throws IOException {
        String what = "stat " + path;
        return expect(call(new Messages.PathOp("stat", path), what), "ok", what).as(Messages.StatOk.class).stat();
    }

    /** The entries of a directory, sorted by name; a long listing arrives in several "entries" events before "ok". */
    public List<FileStat> list(String path) throws IOException {
        String what = "list " + path;
        AgentStream stream = connection.open(new Messages.PathOp("list", path), what);
        List<FileStat> entries = new ArrayList<>();
        Messages.Event event;
        while ((event = call(stream, what)).is("entries")) {
            addEntries(entries, event);
        }
        addEntries(entries, expect(event, "ok", what));
        return entries;
    }

    private static void addEntries(List<FileStat> entries, Messages.Event event) throws ProtocolException {
        List<FileStat> batch = event.as(Messages.Entries.class).entries();
        if (batch != null) {
            entries.addAll(batch);
        }
    }

    public void mkdir(String path, boolean parents) throws IOException {
        String what = "mkdir " + path;
        expect(call(new Messages.Mkdir("mkdir", path, parents, DIR_MODE), what), "ok", what);
    }

    public void remove(String path, boolean recursive) throws IOException {
        String what = "remove " + path;
        expect(call(new Messages.Remove("remove", path, recursive), what), "ok", what);
    }

    public void rename(String from, String to) throws IOException {
        String what = "rename " + from + " -> " + to;
        expect(call(new Messages.Rename("rename", from, to), what), "ok", what);
    }

    /**
     * Opens a TCP connection from inside the guest to {@code host:port} (usually 127.0.0.1, which reaches loopback-only
     * services too: for authenticated callers). Never to {@link #SELF_SIGNAL_PORT}.
     */
    public DialConnection dial(String host, int port) throws IOException {
        return dial(new Messages.Dial("dial", port, host, null), "dial " + host + ":" + port);
    }

    /**
     * Opens a TCP connection to what listens on {@code port} on one of the guest's network addresses (a wildcard or
     * non-loopback bind), never to a loopback-only service: for the public ingress. Refused exactly like a port where
     * nothing listens.
     */
    public DialConnection dialNetwork(int port) throws IOException {
        return dial(new Messages.Dial("dial", port, null, "network"), "dial network port " + port);
    }

    private DialConnection dial(Messages.Dial request, String what) throws IOException {
        if (request.port() == SELF_SIGNAL_PORT) {
            // Checked here as well as in the agent, so a VM restored with an older agent is no exception.
            throw new AgentException("ECONNREFUSED", "dial port " + SELF_SIGNAL_PORT + ": connection refused");
        }
        AgentStream stream = connection.open(request, what);
        expect(call(stream, what), "ok", what);
        return new DialConnection(stream);
    }

    /** Applies hostname, clock (and what else is set) in the guest; the agent answers once all of it is done. */
    public void configure(GuestConfiguration configuration) throws IOException {
        expect(call(configuration, "configure"), "ok", "configure");
    }

    /**
     * Subscribes to the guest's self-signals ({@code watch} op): {@code listener} gets each on a virtual thread, in
     * order, starting with those queued while no watch was open. One watch per connection is the intended use.
     */
    public SelfSignalWatch watch(Consumer<SelfSignal> listener) throws IOException {
        AgentStream stream = connection.open(new Messages.Watch("watch"), "watch");
        expect(call(stream, "watch"), "ok", "watch");
        return new SelfSignalWatch(stream, listener);
    }

    /** The guest's managed processes (proc_* ops), which the agent keeps across connections. */
    public AgentProcesses processes() {
        return new AgentProcesses(connection);
    }

    /**
     * Grows the guest's root filesystem online to its disk ({@code grow_fs}: the guest kernel resizes it, no process
     * starts), once the guest has seen the disk at {@code deviceBytes}, which it learns a moment after QEMU's resize;
     * waits up to {@code timeout} for that. Returns the filesystem's size. An agent older than the op answers
     * {@code unknown_op}.
     */
    public long growRootFilesystem(long deviceBytes, Duration timeout) throws IOException {
        AgentStream stream = connection.open(new Messages.GrowFs("grow_fs", deviceBytes, timeout.toMillis()), "grow_fs");
        Messages.Event event = stream.nextEvent(timeout.plus(connection.answerTimeout()));
        if (event.is("error")) {
            throw stream.errorOf(event);
        }
        return expect(event, "ok", "grow_fs").as(Messages.GrowFsAnswer.class).fsBytes();
    }

    /** The guest's CPU, memory, disk and network figures, read from its /proc. */
    public GuestStats stats() throws IOException {
        return expect(call(new Messages.Ping("stats"), "stats"), "ok", "stats").as(GuestStats.class);
    }

    /** Opens a stream for {@code request} and returns the agent's first event, throwing its error if it sent one. */
    private Messages.Event call(Object request, String what) throws IOException {
        return call(connection.open(request, what), what);
    }

    private static Messages.Event call(AgentStream stream, String what) throws IOException {
        Messages.Event event = stream.nextAnswer();
        if (event.is("error")) {
            throw stream.errorOf(event);
        }
        return event;
    }

    private static Messages.Event expect(Messages.Event event, String type, String what) throws ProtocolException {
        if (!event.is(type)) {
            throw new ProtocolException(what + ": expected a " + type + " event from the agent, got " + event);
        }
        return event;
    }

    /** Closes the connection; the agent aborts every stream of it (kills processes, discards partial uploads). */
    @Override
    public void close() {
        connection.close();
    }
}
