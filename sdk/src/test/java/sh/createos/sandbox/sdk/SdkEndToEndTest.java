package sh.createos.sandbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
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
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.TestApi;

/**
 * The SDK end to end against a real in-process server with real VMs: a create whose response is dropped on the
 * wire and retried makes exactly one sandbox (the server's Idempotency-Key store), 1 GiB up and down through
 * {@code files()} with the heap measured flat and equal SHA-256, and {@code sdk/examples/Quickstart.java} compiled
 * for Java 17 outside the project and run against the server.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SdkEndToEndTest {
    private static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    static TestApi api;
    static Sandbox sandbox;

    @BeforeAll
    static void start() throws Exception {
        api = TestApi.start(dir, true);
    }

    @AfterAll
    static void stop() {
        if (api != null) {
            api.close();
        }
    }

    private static SandboxClient client(int port) {
        return SandboxClient.builder(Map.of()).baseUrl("http://127.0.0.1:" + port).apiKey(api.aliceKey)
                .timeout(Duration.ofMinutes(3)).build();
    }

    @Test
    @Order(1)
    void aCreateRetriedAfterADroppedResponseMakesExactlyOneSandbox() throws Exception {
        try (DroppingProxy proxy = new DroppingProxy(api.server.port(), "POST /v1/sandboxes HTTP/1.1");
                SandboxClient client = client(proxy.port())) {
            sandbox = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-256mb").diskMib(4096)
                    .build());
            assertThat(proxy.dropped.get()).as("the first response was dropped").isEqualTo(1);
            assertThat(proxy.creates.get()).as("the SDK sent the create again").isEqualTo(2);
        }
        assertThat(sandbox.status()).isEqualTo(SandboxStatus.RUNNING);
        var live = api.get("/v1/sandboxes?limit=500", api.aliceKey).data().get("data");
        assertThat(live.size()).as(live.toString()).isEqualTo(1);
        assertThat(live.get(0).get("id").asText()).isEqualTo(sandbox.id());
    }

    @Test
    @Order(2)
    void oneGibUpAndDownKeepsTheHeapFlat() throws Exception {
        try (SandboxClient client = client(api.server.port())) {
            Sandbox sb = client.getSandbox(sandbox.id());
            MessageDigest up = MessageDigest.getInstance("SHA-256");
            HeapWatch watch = HeapWatch.start();
            long t0 = System.nanoTime();
            sb.files().upload("/root/big.bin", new DigestInputStream(new PatternStream(GIB), up));
            long t1 = System.nanoTime();
            MessageDigest down = MessageDigest.getInstance("SHA-256");
            long read;
            try (InputStream in = new DigestInputStream(sb.files().download("/root/big.bin"), down)) {
                read = in.transferTo(OutputStream.nullOutputStream());
            }
            long t2 = System.nanoTime();
            long grown = watch.stop();
            System.out.printf("1 GiB upload %.1f s (%.1f MiB/s), download %.1f s (%.1f MiB/s); heap after GC: "
                    + "baseline %d MiB, peak growth %d MiB over %d samples%n", (t1 - t0) / 1e9,
                    1024 / ((t1 - t0) / 1e9), (t2 - t1) / 1e9, 1024 / ((t2 - t1) / 1e9), watch.baseline >> 20,
                    grown >> 20, watch.samples.get());
            assertThat(read).isEqualTo(GIB);
            assertThat(HexFormat.of().formatHex(down.digest())).isEqualTo(HexFormat.of().formatHex(up.digest()));
            assertThat(sb.sh("stat -c %s /root/big.bin").stdout().strip()).isEqualTo(Long.toString(GIB));
            assertThat(watch.samples.get()).isGreaterThan(10);
            // 1 GiB through a heap of at most 512 MiB: flat means far below the file, and below 64 MiB of growth
            assertThat(grown).isLessThan(64L << 20);
            sb.sh("rm /root/big.bin");
        }
    }

    @Test
    @Order(3)
    void theQuickstartCompiledOutsideTheProjectRuns(@TempDir Path out) throws Exception {
        Path source = Path.of("examples/Quickstart.java").toAbsolutePath();
        List<String> sdkClasspath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            // the SDK's own classes and what it depends on: model and Jackson, nothing of the server
            if (entry.endsWith("sdk/target/classes") || entry.matches(".*/model[^/]*\\.jar|.*/model/target/classes")
                    || entry.matches(".*/jackson-(core|databind|annotations)-[^/]*\\.jar")) {
                sdkClasspath.add(entry);
            }
        }
        assertThat(sdkClasspath).hasSize(5);
        String cp = String.join(File.pathSeparator, sdkClasspath);
        int compiled = ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-cp", cp,
                "-d", out.toString(), source.toString());
        assertThat(compiled).as("javac --release 17 Quickstart.java").isZero();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", out + File.pathSeparator + cp, "Quickstart")
                .redirectErrorStream(true);
        pb.environment().put("CREATEOS_SANDBOX_API_KEY", api.bobKey);
        pb.environment().put("CREATEOS_SANDBOX_BASE_URL", "http://127.0.0.1:" + api.server.port());
        Process p = pb.start();
        byte[] output = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String text = new String(output, StandardCharsets.UTF_8);
        System.out.println(text);
        assertThat(p.exitValue()).as(text).isZero();
        assertThat(text).contains("created sb_", " RUNNING", "uname exit=0 kernel=", "tick 1\ntick 2\ntick 3\n",
                "stream exit=0", "download hello from Java\n", "forward 200 served\n",
                "forked sb_", "resumed RUNNING", "listed ", "destroyed ", "not found: NOT_FOUND 404");
    }

    /** Deterministic pseudo-random bytes of a given length, generated as read: nothing held in memory. */
    static final class PatternStream extends InputStream {
        private final SplittableRandom random = new SplittableRandom(42);
        private long left;

        PatternStream(long length) {
            this.left = length;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left == 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            for (int i = 0; i < n; i += 8) {
                long r = random.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) {
                    b[off + i + j] = (byte) (r >>> (8 * j));
                }
            }
            left -= n;
            return n;
        }
    }

    /** Samples the heap in use right after a GC, twice a second, and reports the peak over the baseline. */
    static final class HeapWatch {
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        final AtomicInteger samples = new AtomicInteger();
        private final AtomicLong peak = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private Thread thread;
        long baseline;

        static HeapWatch start() {
            HeapWatch w = new HeapWatch();
            w.baseline = w.sample();
            w.thread = Thread.ofPlatform().daemon().start(() -> {
                while (w.running.get()) {
                    w.peak.accumulateAndGet(w.sample(), Math::max);
                    w.samples.incrementAndGet();
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            return w;
        }

        private long sample() {
            System.gc();
            return memory.getHeapMemoryUsage().getUsed();
        }

        long stop() throws InterruptedException {
            running.set(false);
            thread.join();
            return Math.max(0, peak.get() - baseline);
        }
    }

    /**
     * A TCP proxy in front of the server that, for the first request starting with {@code marker}, forwards it but
     * drops the connection as the response begins: the server did the work, the client never hears of it.
     */
    static final class DroppingProxy implements AutoCloseable {
        final AtomicInteger dropped = new AtomicInteger();
        final AtomicInteger creates = new AtomicInteger();
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final int upstream;
        private final String marker;

        DroppingProxy(int upstream, String marker) throws IOException {
            this.upstream = upstream;
            this.marker = marker;
            Thread.ofVirtual().start(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        private void accept() {
            try {
                while (true) {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream);
                    AtomicBoolean drop = new AtomicBoolean();
                    Thread.ofVirtual().start(() -> pump(client, server, drop, true));
                    Thread.ofVirtual().start(() -> pump(server, client, drop, false));
                }
            } catch (IOException closed) {
                // the proxy is closed
            }
        }

        private void pump(Socket from, Socket to, AtomicBoolean drop, boolean requests) {
            byte[] buffer = new byte[64 * 1024];
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (requests && new String(buffer, 0, n, StandardCharsets.ISO_8859_1).startsWith(marker)) {
                        if (creates.incrementAndGet() == 1) {
                            drop.set(true);
                        }
                    }
                    if (!requests && drop.get()) {
                        dropped.incrementAndGet();
                        to.setSoLinger(true, 0);
                        return; // closes both: the response never reaches the client
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away: the other is closed with it
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
