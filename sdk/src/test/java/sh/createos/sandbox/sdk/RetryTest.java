package sh.createos.sandbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.model.ErrorCode;

/**
 * The retry rules against a local stub of a remote server (the JDK's HttpServer, and a raw socket that drops
 * connections): which statuses and methods are retried, Retry-After, backoff, the Idempotency-Key being the same on
 * every attempt of one call and different between calls, and streams never retried.
 */
class RetryTest {
    private HttpServer stub;
    private final AtomicInteger hits = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> keys = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();

    /** Answers {@code failures} times with {@code status} (and headers), then 200 with {@code success}. */
    private SandboxClient stub(int failures, int status, Map<String, String> headers, String success)
            throws IOException {
        stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.createContext("/", ex -> {
            int n = hits.incrementAndGet();
            arrivals.add(System.nanoTime());
            String key = ex.getRequestHeaders().getFirst("Idempotency-Key");
            if (key != null) {
                keys.add(key);
            }
            ex.getRequestBody().readAllBytes();
            if (n <= failures) {
                headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
                send(ex, status, "{\"status\":\"fail\",\"data\":{\"message\":\"try again\",\"code\":\"RATE_LIMITED\"}}");
            } else {
                send(ex, 200, success);
            }
        });
        stub.start();
        return client("http://127.0.0.1:" + stub.getAddress().getPort());
    }

    private static SandboxClient client(String baseUrl) {
        return SandboxClient.builder(Map.of()).baseUrl(baseUrl).apiKey("sk_test")
                .retry(RetryPolicy.of(2, Duration.ofMillis(50), Duration.ofSeconds(1))).build();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.getResponseHeaders().add("X-Request-Id", "req_stub");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    @AfterEach
    void stop() {
        if (stub != null) {
            stub.stop(0);
        }
    }

    private static final String WHOAMI = "{\"status\":\"success\",\"data\":{\"user_id\":\"u_1\",\"stats\":"
            + "{\"running\":0,\"paused\":0,\"other\":0,\"total\":0}}}";
    private static final String SANDBOX = "{\"status\":\"success\",\"data\":{\"id\":\"sb_1\",\"status\":\"running\","
            + "\"vcpu\":1,\"mem_mib\":256,\"disk_mib\":1024,\"created_at\":\"2026-01-01T00:00:00Z\","
            + "\"ingress_enabled\":false,\"egress\":[],\"bandwidth_quota_bytes\":1}}";

    @Test
    void a503IsRetriedForAGetUntilItSucceeds() throws Exception {
        try (SandboxClient c = stub(2, 503, Map.of(), WHOAMI)) {
            assertThat(c.whoami().userId()).isEqualTo("u_1");
        }
        assertThat(hits.get()).isEqualTo(3);
    }

    @Test
    void retriesEndAfterMaxRetriesWithTheTypedError() throws Exception {
        try (SandboxClient c = stub(10, 503, Map.of(), WHOAMI)) {
            assertThatThrownBy(c::whoami).isInstanceOfSatisfying(ServerException.class, e -> {
                assertThat(e.statusCode()).isEqualTo(503);
                assertThat(e.requestId()).isEqualTo("req_stub");
            });
        }
        assertThat(hits.get()).isEqualTo(3);
    }

    @Test
    void a429HonoursRetryAfterAndExposesItWhenExhausted() throws Exception {
        try (SandboxClient c = stub(1, 429, Map.of("Retry-After", "1"), WHOAMI)) {
            c.whoami();
        }
        List<Long> at = List.copyOf(arrivals);
        assertThat(Duration.ofNanos(at.get(1) - at.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(950));
        hits.set(0);
        stop();
        try (SandboxClient c = stub(10, 429, Map.of("Retry-After", "0"), WHOAMI)) {
            assertThatThrownBy(c::whoami).isInstanceOfSatisfying(RateLimitException.class, e -> {
                assertThat(e.retryAfter()).contains(Duration.ZERO);
                assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED);
            });
        }
    }

    @Test
    void a500IsRetriedForAGetButNotForAnUnkeyedPostWhileA503IsForBoth() throws Exception {
        try (SandboxClient c = stub(1, 500, Map.of(), WHOAMI)) {
            c.whoami();
        }
        assertThat(hits.get()).isEqualTo(2);
        hits.set(0);
        stop();
        String ok = "{\"status\":\"success\",\"data\":{\"id\":\"net_1\",\"name\":\"n\",\"created_at\":\"x\"}}";
        try (SandboxClient c = stub(1, 500, Map.of(), ok)) {
            assertThatThrownBy(() -> c.networks().create("n")).isInstanceOf(ServerException.class);
        }
        assertThat(hits.get()).isEqualTo(1);
        hits.set(0);
        stop();
        try (SandboxClient c = stub(1, 503, Map.of(), ok)) {
            assertThat(c.networks().create("n").id()).isEqualTo("net_1");
        }
        assertThat(hits.get()).isEqualTo(2);
    }

    @Test
    void createIsRetriedOn500WithTheSameIdempotencyKeyAndANewKeyPerCall() throws Exception {
        try (SandboxClient c = stub(2, 500, Map.of(), SANDBOX)) {
            c.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-256mb").build());
            assertThat(hits.get()).isEqualTo(3);
            assertThat(keys).hasSize(3);
            assertThat(keys.stream().distinct()).hasSize(1);
            c.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-256mb").build());
        }
        assertThat(keys.stream().distinct()).hasSize(2);
    }

    @Test
    void aStreamIsNeverRetried() throws Exception {
        try (SandboxClient c = stub(5, 503, Map.of(), "{}")) {
            Sandbox sb = new Sandbox(c, new sh.createos.sandbox.model.SandboxView("sb_1",
                    sh.createos.sandbox.model.SandboxStatus.RUNNING, null, 1, 256, 1024, "x", false, null, null, null,
                    null, null, null, null, null, null, null, null, null, null, null, null, null, null));
            assertThatThrownBy(() -> sb.streamCommand("true", List.of())).isInstanceOf(ServerException.class);
        }
        assertThat(hits.get()).isEqualTo(1);
    }

    /** A raw listener that accepts and closes {@code drops} connections, then serves a success. */
    @Test
    void droppedConnectionsAreRetriedForGetsAndKeyedPostsOnly() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread server = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        Socket s = listener.accept();
                        int n = accepted.incrementAndGet();
                        s.getInputStream().read(new byte[8192]);
                        if (n % 3 != 0) {
                            s.setSoLinger(true, 0);
                            s.close(); // reset, no response
                        } else {
                            byte[] body = WHOAMI.getBytes(StandardCharsets.UTF_8);
                            s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            s.getOutputStream().write(body);
                            s.close();
                        }
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            try (SandboxClient c = client("http://127.0.0.1:" + listener.getLocalPort())) {
                assertThat(c.whoami().userId()).isEqualTo("u_1");
                assertThat(accepted.get()).isEqualTo(3);
                accepted.set(0);
                assertThatThrownBy(() -> c.networks().create("n")).isInstanceOf(ConnectionException.class);
                assertThat(accepted.get()).isEqualTo(1);
            }
            server.interrupt();
        }
    }

    @Test
    void backoffIsJitteredExponentialAndCapped() {
        RetryPolicy p = RetryPolicy.of(5, Duration.ofMillis(100), Duration.ofMillis(350));
        for (int i = 0; i < 20; i++) {
            assertThat(p.backoff(0).toMillis()).isBetween(100L, 200L);
            assertThat(p.backoff(1).toMillis()).isBetween(200L, 300L);
            assertThat(p.backoff(4).toMillis()).isEqualTo(350L);
        }
    }
}
