package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AgentMultiplexer} against the real Go agent on this host ({@code serve --listen unix:PATH}): several
 * clients share its one connection as if each had it alone; one client going away, or starting a new session,
 * aborts its own streams only; a caller's protocol error ends its session only; the agent's end ends them all.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AgentMultiplexerTest {
    @TempDir
    Path dir;
    private AgentProcess agent;
    private AgentMultiplexer mux;

    @BeforeEach
    void start() throws Exception {
        agent = AgentProcess.listen(dir);
        agent.connect().close(); // waits until it listens
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(agent.socket()));
        mux = AgentMultiplexer.open("test agent", Channels.newInputStream(channel), Channels.newOutputStream(channel),
                channel, Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() throws Exception {
        if (mux != null) {
            mux.close();
        }
        agent.close();
    }

    @Test
    void clientsShareTheConnectionAsIfEachHadItAlone() throws Exception {
        List<AgentClient> clients = List.of(mux.client(), mux.client(), mux.client());
        assertThat(mux.sessionCount()).isEqualTo(3);
        assertThat(clients.get(0).hello().agent()).isNotBlank();
        // Outputs of several windows each, at once: ids are remapped and every stream keeps its own flow control.
        List<CompletableFuture<ExecResult>> runs = new ArrayList<>();
        for (int i = 0; i < clients.size(); i++) {
            AgentClient client = clients.get(i);
            int n = 100_000 * (i + 1);
            runs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return client.run(ExecRequest.of("seq", "1", String.valueOf(n)));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        for (int i = 0; i < runs.size(); i++) {
            ExecResult result = runs.get(i).get(60, TimeUnit.SECONDS);
            assertThat(result.exitCode()).isZero();
            assertThat(result.stdout()).startsWith("1\n2\n").endsWith("\n" + 100_000 * (i + 1) + "\n");
            assertThat(result.stdout().lines().count()).isEqualTo(100_000L * (i + 1));
        }
        // Files both ways on one client while another execs.
        byte[] content = new byte[3 * 1024 * 1024];
        new java.util.Random(7).nextBytes(content);
        Path file = dir.resolve("shared.bin");
        clients.get(1).writeFile(file.toString(), new java.io.ByteArrayInputStream(content), 0644);
        assertThat(clients.get(2).run(ExecRequest.of("stat", "-c", "%s", file.toString())).stdout().strip())
                .isEqualTo(String.valueOf(content.length));
        try (FileDownload download = clients.get(0).readFile(file.toString())) {
            assertThat(download.content().readAllBytes()).isEqualTo(content);
        }
        for (AgentClient client : clients) {
            client.close();
        }
        assertThat(mux.sessionCount()).isZero();
        assertThat(mux.isOpen()).isTrue();
    }

    @Test
    void aClientGoingAwayAbortsItsOwnStreamsOnly() throws Exception {
        AgentClient leaving = mux.client();
        AgentClient staying = mux.client();
        Path leavingMarker = dir.resolve("leaving.pid");
        Path stayingMarker = dir.resolve("staying.pid");
        ExecSession gone = leaving.exec(ExecRequest.of("sh", "-c", "echo $$ > " + leavingMarker + "; exec sleep 60"));
        ExecSession kept = staying.exec(ExecRequest.of("sh", "-c", "echo $$ > " + stayingMarker + "; sleep 3; echo done"));
        long leavingPid = awaitPid(leavingMarker);
        awaitPid(stayingMarker);
        leaving.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ProcessHandle.of(leavingPid).map(ProcessHandle::isAlive).orElse(false)) {
            assertThat(System.nanoTime()).as("the leaving client's exec was killed").isLessThan(deadline);
            Thread.sleep(50);
        }
        kept.stderr().close();
        assertThat(new String(kept.stdout().readAllBytes())).isEqualTo("done\n");
        assertThat(kept.waitFor().code()).isZero();
        assertThat(staying.run(ExecRequest.of("echo", "still here")).stdout()).isEqualTo("still here\n");
        staying.close();
        gone.close();
    }

    @Test
    void aCallersProtocolErrorEndsItsSessionOnly() throws Exception {
        AgentClient other = mux.client();
        List<byte[]> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
        AgentMultiplexer.Session raw = mux.attach(answers::add, () -> {});
        raw.fromCaller(frame(0, Frame.HELLO, Messages.encode(new Messages.Hello(Messages.MAGIC, Messages.VERSION))));
        assertThat(answers).hasSize(1);
        assertThat(answers.get(0)[4]).isEqualTo((byte) Frame.HELLO);
        byte[] open = frame(5, Frame.OPEN, "{\"op\":\"stat\",\"path\":\"/\"}".getBytes());
        // In two pieces, split inside the header: frames are reassembled from any pieces.
        raw.fromCaller(java.util.Arrays.copyOfRange(open, 0, 3));
        raw.fromCaller(java.util.Arrays.copyOfRange(open, 3, open.length));
        assertThatThrownBy(() -> raw.fromCaller(open)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("OPEN of stream 5 after stream 5");
        raw.close();
        assertThat(other.run(ExecRequest.of("echo", "unaffected")).stdout()).isEqualTo("unaffected\n");
        other.close();
    }

    @Test
    void theAgentsEndEndsEverySession() throws Exception {
        AgentClient one = mux.client();
        AgentClient two = mux.client();
        assertThat(one.run(ExecRequest.of("true")).exitCode()).isZero();
        agent.kill();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (mux.isOpen() || one.isOpen() || two.isOpen()) {
            assertThat(System.nanoTime()).as("the multiplexer and its clients end").isLessThan(deadline);
            Thread.sleep(50);
        }
        assertThatThrownBy(mux::client).hasMessageContaining("has ended");
    }

    private static long awaitPid(Path marker) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            if (java.nio.file.Files.exists(marker)) {
                String text = java.nio.file.Files.readString(marker).strip();
                if (!text.isEmpty()) {
                    return Long.parseLong(text);
                }
            }
            assertThat(System.nanoTime()).as("%s written", marker).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static byte[] frame(int stream, int type, byte[] payload) {
        byte[] bytes = new byte[Frame.HEADER_BYTES + payload.length];
        FrameWriter.putInt(bytes, 0, stream);
        bytes[4] = (byte) type;
        FrameWriter.putInt(bytes, 6, payload.length);
        System.arraycopy(payload, 0, bytes, Frame.HEADER_BYTES, payload.length);
        return bytes;
    }
}
