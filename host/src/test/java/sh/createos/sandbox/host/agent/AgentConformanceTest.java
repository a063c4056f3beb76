package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.proc.Command;

/**
 * The Java client against the real Go agent running on this host ({@code serve --listen unix:PATH}, no VM): every
 * message type of docs/agent-protocol.md, flow control, and connection loss.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentConformanceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path agentDir;

    private static AgentProcess agent;

    @TempDir
    Path dir;

    private AgentClient client;

    @BeforeAll
    static void startAgent() throws IOException {
        agent = AgentProcess.listen(agentDir);
    }

    @AfterAll
    static void stopAgent() throws InterruptedException {
        agent.close();
    }

    @BeforeEach
    void connect() throws IOException {
        client = agent.connect();
    }

    @AfterEach
    void disconnect() {
        client.close();
    }

    // --- connection ---

    @Test
    void helloDescribesTheAgentAndItsHost() throws Exception {
        AgentHello hello = client.hello();
        assertThat(hello.agent()).isNotBlank();
        assertThat(hello.kernel()).isEqualTo(Command.of("uname", "-r").run().stdout().strip());
        assertThat(hello.hostname()).isEqualTo(Command.of("hostname").run().stdout().strip());
        assertThat(hello.bootMs()).isPositive();
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void pingMeasuresARoundTrip() throws Exception {
        Duration rtt = client.ping();
        assertThat(rtt).isPositive().isLessThan(WAIT);
    }

    @Test
    void stdioModeSpeaksTheSameProtocol() throws Exception {
        Process process = new ProcessBuilder(AgentBinary.get().toString(), "serve", "--stdio")
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("stdio-agent.log").toFile()))
                .start();
        try (AgentClient stdio = AgentClient.over(process.getInputStream(), process.getOutputStream())) {
            assertThat(stdio.hello().kernel()).isEqualTo(client.hello().kernel());
            stdio.ping();
            assertThat(stdio.run(ExecRequest.of("echo", "over stdio")).stdout()).isEqualTo("over stdio\n");
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    // --- exec with pipes ---

    @Test
    void interleavedStdoutAndStderrStayOrderedPerStream() throws Exception {
        int lines = 100_000;
        ExecResult result = client.run(ExecRequest.of("sh", "-c",
                "i=0; while [ $i -lt " + lines + " ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"));
        assertThat(result.exitCode()).isZero();
        List<String> stdout = result.stdout().lines().toList();
        List<String> stderr = result.stderr().lines().toList();
        assertThat(stdout).hasSize(lines);
        assertThat(stderr).hasSize(lines);
        for (int i = 0; i < lines; i++) {
            if (!stdout.get(i).equals("out" + i) || !stderr.get(i).equals("err" + i)) {
                throw new AssertionError("line " + i + " out of order: " + stdout.get(i) + " / " + stderr.get(i));
            }
        }
    }

    @Test
    void exitCodeIsReported() throws Exception {
        ExecResult result = client.run(ExecRequest.of("sh", "-c", "echo partial; exit 42"));
        assertThat(result).isEqualTo(new ExecResult("partial\n", "", 42));
    }

    @Test
    void missingBinaryIsAStartError() {
        assertThatThrownBy(() -> client.exec(ExecRequest.of("/no/such/binary", "arg")))
                .isInstanceOfSatisfying(ExecStartException.class, e -> assertThat(e.code()).isEqualTo("start_failed"))
                .hasMessageContaining("/no/such/binary");
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void stdinRoundTripsThroughTheProcess() throws Exception {
        byte[] input = new byte[3 * 1024 * 1024 + 17]; // several windows in each direction
        new Random(7).nextBytes(input);
        try (ExecSession cat = client.exec(ExecRequest.of("cat").withStdin(true))) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try (OutputStream stdin = cat.stdin()) {
                    stdin.write(input);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] echoed = cat.stdout().readAllBytes();
            writer.join();
            assertThat(echoed).isEqualTo(input);
            assertThat(cat.waitFor()).isEqualTo(new ExitStatus(0, null));
        }
    }

    @Test
    void envIsMergedOverDefaultsAndCwdIsHonoured() throws Exception {
        ExecResult result = client.run(ExecRequest.of("sh", "-c", "echo \"$GREETING|$LANG|$HOME\"; pwd")
                .withEnv(Map.of("GREETING", "hello world"))
                .withCwd(dir.toString()));
        assertThat(result.stdout()).isEqualTo("hello world|C.UTF-8|/root\n" + dir.toRealPath() + "\n");
        assertThat(client.run(ExecRequest.of("pwd")).stdout()).isEqualTo("/root\n");
    }

    @Test
    void signalReachesTheProcess() throws Exception {
        try (ExecSession session = client.exec(ExecRequest.of("sh", "-c",
                "trap 'echo caught INT; exit 3' INT; echo ready; while :; do sleep 0.05; done"))) {
            Transcript out = new Transcript(session.stdout());
            out.await("ready\n", 0, WAIT);
            session.signal("INT");
            assertThat(session.waitFor().code()).isEqualTo(3);
            out.await("caught INT\n", 0, WAIT);
        }
        try (ExecSession sleep = client.exec(ExecRequest.of("sleep", "60"))) {
            sleep.signal("TERM");
            assertThat(sleep.waitFor()).isEqualTo(new ExitStatus(128 + 15, "TERM"));
        }
    }

    @Test
    void killReachesTheWholeTreeIncludingASetsidGrandchild() throws Exception {
        try (ExecSession session = client.exec(ExecRequest.of("sh", "-c",
                "setsid sh -c 'echo $$; exec sleep 1000' & wait"))) {
            Transcript out = new Transcript(session.stdout());
            int end = out.await("\n", 0, WAIT);
            long grandchild = Long.parseLong(out.text().substring(0, end).strip());
            try {
                assertThat(ProcessHandle.of(grandchild)).map(ProcessHandle::isAlive).contains(true);
                assertThat(sessionId(grandchild)).isEqualTo(grandchild); // it really left the session
                session.kill();
                assertThat(session.waitFor()).isEqualTo(new ExitStatus(128 + 9, "KILL"));
                assertThat(awaitGone(grandchild)).as("setsid grandchild %d is gone", grandchild).isTrue();
            } finally {
                ProcessHandle.of(grandchild).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void backgroundProcessHoldingThePipesDoesNotHoldTheExec() throws Exception {
        long start = System.nanoTime();
        ExecResult result = client.run(ExecRequest.of("sh", "-c", "sleep 30 & echo $!; echo done"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(result.exitCode()).isZero();
        List<String> lines = result.stdout().lines().toList();
        assertThat(lines).hasSize(2).endsWith("done");
        long background = Long.parseLong(lines.getFirst());
        try {
            assertThat(ProcessHandle.of(background)).map(ProcessHandle::isAlive).contains(true);
        } finally {
            ProcessHandle.of(background).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void closingASessionKillsTheProcess() throws Exception {
        long pid;
        try (ExecSession session = client.exec(ExecRequest.of("sleep", "1000"))) {
            pid = session.pid();
            assertThat(ProcessHandle.of(pid)).map(ProcessHandle::isAlive).contains(true);
        }
        try {
            assertThat(awaitGone(pid)).as("sleep %d killed by CLOSE", pid).isTrue();
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    // --- exec with a PTY ---

    @Test
    void ptyGivesTheProcessATerminal() throws Exception {
        ExecResult result = client.run(ExecRequest.of("sh", "-c", "tty; echo \"$TERM\"").withPty(new PtySize(24, 80)));
        assertThat(result.stdout()).matches("/dev/pts/\\d+\\r\\nxterm-256color\\r\\n");
        assertThat(result.stderr()).isEmpty();
        assertThat(result.exitCode()).isZero();
    }

    @Test
    void ptyResizeAndCtrlCWork() throws Exception {
        try (ExecSession shell = client.exec(ExecRequest.of("sh", "-i").withPty(new PtySize(24, 80)).withStdin(true))) {
            Transcript out = new Transcript(shell.stdout());
            OutputStream in = shell.stdin();
            type(in, "stty size\n");
            int at = out.await("24 80", 0, WAIT);

            shell.resize(40, 100);
            type(in, "stty size\n");
            at = out.await("40 100", at, WAIT);

            // The child prints once it is the terminal's foreground process group, then becomes sleep.
            type(in, "sh -c 'echo sleeping; exec sleep 1000'\n");
            at = out.await("sleeping\r\n", at, WAIT);
            in.write(0x03);
            in.flush();
            type(in, "echo after-$((6*7))\n");
            at = out.await("after-42", at, WAIT);

            type(in, "exit 7\n");
            assertThat(shell.waitFor().code()).isEqualTo(7);
        }
    }

    // --- files ---

    @Test
    void fiftyMebibytesWriteAndReadBackIdentically() throws Exception {
        String path = dir.resolve("sub/dir/blob.bin").toString();
        long size = 50L * 1024 * 1024;
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        long written = client.writeFile(path, new RandomStream(size, 11, sent), 0640);
        assertThat(written).isEqualTo(size);
        assertThat(Files.size(Path.of(path))).isEqualTo(size);

        MessageDigest received = MessageDigest.getInstance("SHA-256");
        try (FileDownload download = client.readFile(path)) {
            assertThat(download.size()).isEqualTo(size);
            assertThat(download.mode() & 0777).isEqualTo(0640);
            byte[] buf = new byte[65536];
            long total = 0;
            for (int n; (n = download.content().read(buf)) >= 0; ) {
                received.update(buf, 0, n);
                total += n;
            }
            assertThat(total).isEqualTo(size);
        }
        assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
    }

    @Test
    void abortedUploadLeavesNothingBehind() throws Exception {
        Path target = dir.resolve("never.bin");
        InputStream failing = new InputStream() {
            private int served;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (served > 1_000_000) {
                    throw new IOException("source failed");
                }
                served += len;
                return len;
            }
        };
        assertThatThrownBy(() -> client.writeFile(target.toString(), failing, 0644)).hasMessage("source failed");
        awaitCondition("no partial file left in " + dir, () -> listNames(dir).isEmpty()); // rollback may lag a bit
    }

    @Test
    void readingAMissingFileIsENOENT() {
        String path = dir.resolve("missing.txt").toString();
        assertThatThrownBy(() -> client.readFile(path))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("ENOENT"))
                .hasMessageContaining(path);
    }

    @Test
    void statListMkdirRemoveRename() throws Exception {
        String root = dir.toString();
        client.mkdir(root + "/a/b/c", true);
        assertThatThrownBy(() -> client.mkdir(root + "/x/y", false))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("ENOENT"));
        client.writeFile(root + "/a/zeta.txt", new ByteArrayInputStream("zeta".getBytes(StandardCharsets.UTF_8)), 0600);
        client.writeFile(root + "/a/alpha.txt", new ByteArrayInputStream(new byte[0]), 0644);

        FileStat file = client.stat(root + "/a/zeta.txt");
        assertThat(file.name()).isEqualTo("zeta.txt");
        assertThat(file.path()).isEqualTo(root + "/a/zeta.txt");
        assertThat(file.isFile()).isTrue();
        assertThat(file.size()).isEqualTo(4);
        assertThat(file.mode() & 0777).isEqualTo(0600);
        assertThat(file.mtimeMs()).isCloseTo(System.currentTimeMillis(), Offset.offset(60_000L));
        assertThat(client.stat(root + "/a/b").isDirectory()).isTrue();

        assertThat(client.list(root + "/a")).extracting(FileStat::name, FileStat::type)
                .containsExactly(tuple("alpha.txt", "file"),
                        tuple("b", "dir"),
                        tuple("zeta.txt", "file"));

        client.rename(root + "/a/zeta.txt", root + "/a/b/omega.txt");
        assertThat(Files.readString(dir.resolve("a/b/omega.txt"))).isEqualTo("zeta");
        assertThatThrownBy(() -> client.stat(root + "/a/zeta.txt"))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("ENOENT"));

        assertThatThrownBy(() -> client.remove(root + "/a", false))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("ENOTEMPTY"));
        client.remove(root + "/a/alpha.txt", false);
        assertThat(dir.resolve("a/alpha.txt")).doesNotExist();
        client.remove(root + "/a", true);
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void aLongListingArrivesCompleteAndSorted() throws Exception {
        int count = 3000; // ~100 bytes of JSON each: several "entries" events before "ok"
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = "entry-with-a-fairly-long-name-%05d.txt".formatted((i * 7919) % count);
            Files.writeString(dir.resolve(name), "x");
            names.add(name);
        }
        List<FileStat> entries = client.list(dir.toString());
        assertThat(entries).extracting(FileStat::name).containsExactlyElementsOf(names.stream().sorted().toList());
        assertThat(entries).allSatisfy(e -> assertThat(e.size()).isEqualTo(1));
    }

    @Test
    void relativeOrUncleanPathsAreEINVAL() {
        List<ThrowingCall> calls = List.of(
                () -> client.readFile("relative/file"),
                () -> client.stat("etc/hosts"),
                () -> client.list("."),
                () -> client.mkdir("new-dir", true),
                () -> client.remove("some/file", false),
                () -> client.rename("/tmp/x", "y"),
                () -> client.writeFile("out.txt", new ByteArrayInputStream(new byte[10]), 0644),
                () -> client.stat(dir + "/../" + dir.getFileName()));
        for (ThrowingCall call : calls) {
            assertThatThrownBy(call::call)
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("EINVAL"));
        }
    }

    // --- dial ---

    @Test
    void dialReachesALocalTcpServer() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread echo = Thread.ofVirtual().start(() -> {
                try (Socket socket = server.accept()) {
                    socket.getInputStream().transferTo(socket.getOutputStream());
                    socket.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] payload = new byte[1024 * 1024];
            new Random(3).nextBytes(payload);
            try (DialConnection connection = client.dial("127.0.0.1", server.getLocalPort())) {
                Thread writer = Thread.ofVirtual().start(() -> {
                    try (OutputStream out = connection.output()) { // close = half-close: the echo ends
                        out.write(payload);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                assertThat(connection.input().readAllBytes()).isEqualTo(payload);
                writer.join();
            }
            echo.join();
        }
    }

    @Test
    void dialToAClosedPortIsECONNREFUSED() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        assertThatThrownBy(() -> client.dial("127.0.0.1", port))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).isEqualTo("ECONNREFUSED"));
    }

    // --- flow control ---

    @Test
    void anUnreadStreamNeitherStallsOthersNorBuffersBeyondItsWindow() throws Exception {
        try (ExecSession flood = client.exec(ExecRequest.of("sh", "-c", "exec cat /dev/zero"))) {
            awaitCondition("the unread stdout fills its window",
                    () -> flood.stdout().available() >= Frame.INITIAL_WINDOW - Frame.MAX_DATA);
            for (int i = 0; i < 20; i++) {
                assertThat(client.run(ExecRequest.of("echo", "still responsive " + i)).stdout())
                        .isEqualTo("still responsive " + i + "\n");
            }
            assertThat(flood.stdout().available()).isLessThanOrEqualTo(Frame.INITIAL_WINDOW);
            // Consuming returns credit: the flood resumes.
            byte[] chunk = flood.stdout().readNBytes(4 * Frame.INITIAL_WINDOW);
            assertThat(chunk).hasSize(4 * Frame.INITIAL_WINDOW).containsOnly(0);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aGibibyteUploadDoesNotGrowTheHeap() throws Exception {
        long size = 1L << 30;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long baseline = usedHeapAfterGc(memory);
        List<Long> samples = new ArrayList<>();
        InputStream content = new InputStream() { // a repeated block: generating 1 GiB must stay cheap
            private final byte[] block = new byte[64 * 1024];
            private long position;
            private long nextSample = size / 8;

            @Override
            public int read() {
                throw new UnsupportedOperationException("the client reads in blocks");
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (position >= nextSample) {
                    samples.add(usedHeapAfterGc(memory) - baseline);
                    nextSample += size / 8;
                }
                if (position == size) {
                    return -1;
                }
                int n = (int) Math.min(Math.min(len, block.length), size - position);
                System.arraycopy(block, 0, b, off, n);
                position += n;
                return n;
            }
        };
        Path target = dir.resolve("gibibyte.bin");
        try {
            assertThat(client.writeFile(target.toString(), content, 0600)).isEqualTo(size);
            assertThat(Files.size(target)).isEqualTo(size);
        } finally {
            Files.deleteIfExists(target);
        }
        System.out.println("heap growth during a 1 GiB upload, sampled every 128 MiB: " + samples);
        assertThat(samples).hasSizeGreaterThanOrEqualTo(7);
        assertThat(samples).allSatisfy(delta -> assertThat(delta).isLessThan(8L * 1024 * 1024));
    }

    // --- connection loss ---

    @Test
    void losingTheConnectionFailsEveryOpenStream(@TempDir Path ownAgentDir) throws Exception {
        AgentProcess doomed = AgentProcess.listen(ownAgentDir);
        try (AgentClient lost = doomed.connect()) {
            ExecSession sleeping = lost.exec(ExecRequest.of("sleep", "1000"));
            ExecSession flooding = lost.exec(ExecRequest.of("cat", "/dev/zero"));
            long sleepPid = sleeping.pid();
            doomed.kill();
            try {
                assertThatThrownBy(sleeping::waitFor).isInstanceOf(IOException.class)
                        .hasMessageContaining("unix:" + doomed.socket());
                assertThatThrownBy(() -> flooding.stdout().readAllBytes()).isInstanceOf(IOException.class)
                        .hasMessageContaining("unix:" + doomed.socket());
                assertThat(lost.isOpen()).isFalse();
                assertThatThrownBy(lost::ping).isInstanceOf(IOException.class)
                        .hasMessageContaining("unix:" + doomed.socket());
            } finally {
                ProcessHandle.of(sleepPid).ifPresent(ProcessHandle::destroyForcibly);
                ProcessHandle.of(flooding.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        } finally {
            doomed.close();
        }
    }

    @Test
    void hostDisconnectMakesTheAgentKillItsProcesses() throws Exception {
        long pid;
        try (AgentClient second = reconnectBeside()) {
            pid = second.exec(ExecRequest.of("sleep", "1000")).pid();
            assertThat(ProcessHandle.of(pid)).map(ProcessHandle::isAlive).contains(true);
        }
        try {
            assertThat(awaitGone(pid)).as("sleep %d killed on disconnect", pid).isTrue();
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Serve mode takes one connection at a time: hand over from the per-test client to a new one. */
    private AgentClient reconnectBeside() throws IOException {
        client.close();
        return agent.connect();
    }

    // --- helpers ---

    @FunctionalInterface
    private interface ThrowingCall {
        void call() throws Exception;
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitCondition(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + WAIT);
            }
            Thread.sleep(20);
        }
    }

    private static boolean awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isEmpty() || !handle.get().isAlive() || isZombie(pid)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true; // gone between the checks
        }
    }

    private static long sessionId(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[3]); // state ppid pgrp session
    }

    private static List<String> listNames(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static void type(OutputStream in, String text) throws IOException {
        in.write(text.getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** Pseudo-random bytes of a given length, generated on the fly and digested as read. */
    private static final class RandomStream extends InputStream {
        private final long size;
        private final Random random;
        private final MessageDigest digest;
        private final byte[] chunk = new byte[Frame.MAX_DATA];
        private long position;

        RandomStream(long size, long seed, MessageDigest digest) {
            this.size = size;
            this.random = new Random(seed);
            this.digest = digest;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position == size) {
                return -1;
            }
            int n = (int) Math.min(Math.min(len, chunk.length), size - position);
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, b, off, n);
            digest.update(chunk, 0, n);
            position += n;
            return n;
        }
    }
}
