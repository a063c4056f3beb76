package sh.createos.sandbox.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Ingress and tunnels against one real sandbox that runs {@code guest/ingress-test-server.js} (HTTP + WebSocket echo
 * on 0.0.0.0:3000, a TCP echo on 127.0.0.1:4000). Ingress URLs are used exactly as the API hands them out
 * ({@link LocalhostSubdomainResolver} resolves {@code *.localhost}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IngressTunnelTest {
    @TempDir
    static Path dir;
    private TestApi api;
    private String id;
    private String base;
    private String template;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void bootOneServingSandbox() throws Exception {
        api = TestApi.start(dir, true);
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                "ingress_enabled", true));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        id = created.data().get("id").asText();
        base = "/v1/sandboxes/" + id;
        template = created.data().get("ingress_url_template").asText();
        byte[] script;
        try (InputStream in = getClass().getResourceAsStream("/guest/ingress-test-server.js")) {
            script = in.readAllBytes();
        }
        Reply put = api.send(TestApi.withKey(api.request(base + "/files?path=%2Froot%2Fsrv.js"), api.aliceKey)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(script)).build());
        assertThat(put.status()).as(put.toString()).isEqualTo(200);
        exec("bash", "-lc", "nohup setsid node /root/srv.js >/tmp/srv.log 2>&1 &");
        JsonNode ready = exec("bash", "-c", "for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null"
                + " && (echo >/dev/tcp/127.0.0.1/4000) 2>/dev/null && exit 0; sleep 0.2; done; cat /tmp/srv.log; exit 1");
        assertThat(ready.get("result").get("exit_code").asInt()).as(ready.toString()).isZero();
    }

    @AfterAll
    void cleanUp() {
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void theTemplateNamesTheSandboxAndTheIngressListenerAndFollowsTheFlag() throws Exception {
        String ulid = id.substring(3).toLowerCase(java.util.Locale.ROOT);
        assertThat(template).isEqualTo("http://" + ulid + "-<port>.sb.localhost:" + api.server.ingressPort());
        assertThat(api.get(base, api.aliceKey).data().get("ingress_url_template").asText()).isEqualTo(template);
        JsonNode off = api.patch(base, api.aliceKey, map("ingress_enabled", false)).data();
        assertThat(off.get("ingress_enabled").asBoolean()).isFalse();
        assertThat(off.has("ingress_url_template")).isFalse();
        assertThat(get(url(3000) + "/hello").statusCode()).isEqualTo(404);
        JsonNode on = api.patch(base, api.aliceKey, map("ingress_enabled", true)).data();
        assertThat(on.get("ingress_url_template").asText()).isEqualTo(template);
    }

    @Test
    @Order(2)
    void anHttpRequestReachesTheGuestPortWithForwardedHeaders() throws Exception {
        HttpResponse<String> hello = get(url(3000) + "/hello");
        assertThat(hello.statusCode()).isEqualTo(200);
        assertThat(hello.body()).isEqualTo("hello from the guest; host=" + URI.create(url(3000)).getAuthority()
                + " xff=127.0.0.1\n");
        assertThat(hello.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(get(url(3000) + "/missing").statusCode()).isEqualTo(404);
    }

    @Test
    @Order(2)
    void bodiesStreamBothWaysWithoutWaitingForTheWholeUpload() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", api.server.ingressPort())) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("POST /echo HTTP/1.1\r\nHost: " + URI.create(url(3000)).getAuthority()
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write("5\r\nfirst\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            // The echo of the first piece comes back while the upload is still open.
            String head = readUntil(in, "first");
            assertThat(head).startsWith("HTTP/1.1 200").contains("first");
            out.write("6\r\nsecond\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertThat(readUntil(in, "second")).contains("second");
        }
        byte[] upload = new byte[6 << 20];
        new Random(7).nextBytes(upload);
        HttpResponse<byte[]> echoed = http.send(HttpRequest.newBuilder(URI.create(url(3000) + "/echo"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(echoed.statusCode()).isEqualTo(200);
        assertThat(sha256(echoed.body())).isEqualTo(sha256(upload));
        int size = 24 << 20;
        HttpResponse<InputStream> big = http.send(HttpRequest.newBuilder(URI.create(url(3000) + "/big/" + size))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(big.headers().firstValueAsLong("content-length")).hasValue(size);
        try (InputStream body = big.body()) {
            assertThat(body.transferTo(OutputStream.nullOutputStream())).isEqualTo(size);
        }
    }

    @Test
    @Order(2)
    void aWebSocketUpgradePassesThroughAndEchoes() throws Exception {
        CompletableFuture<String> reply = new CompletableFuture<>();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(url(3000).replace("http:", "ws:") + "/ws"),
                new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            reply.complete(text.toString());
                        }
                        socket.request(1);
                        return null;
                    }
                }).get(30, TimeUnit.SECONDS);
        ws.sendText("hello over a websocket", true).get(30, TimeUnit.SECONDS);
        assertThat(reply.get(30, TimeUnit.SECONDS)).isEqualTo("hello over a websocket");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(30, TimeUnit.SECONDS);
    }

    @Test
    @Order(2)
    void unknownNamesAnswerA404PageAndAQuietPortA502Page() throws Exception {
        HttpResponse<String> unknown = get(url(3000).replace(id.substring(3).toLowerCase(java.util.Locale.ROOT),
                "01aaaaaaaaaaaaaaaaaaaaaaaa") + "/");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.headers().firstValue("content-type").orElse("")).startsWith("text/html");
        assertThat(unknown.body()).contains("No sandbox here");
        HttpResponse<String> notASandboxName = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + api.server.ingressPort() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(notASandboxName.statusCode()).isEqualTo(404);
        HttpResponse<String> quiet = get(url(3999) + "/");
        assertThat(quiet.statusCode()).isEqualTo(502);
        assertThat(quiet.body()).contains("nothing is listening on port 3999");
    }

    @Test
    @Order(2)
    void theIngressNeverReachesTheSelfSignalPortNorALoopbackOnlyServiceAndRefusesBothAlike() throws Exception {
        // Issue 18: POST <ulid>-1029.<domain>/self/delete destroyed the sandbox without any key, and the
        // 127.0.0.1-bound echo on 4000 was served publicly (a port scan told 404/502/200 apart).
        HttpResponse<String> selfDelete = http.send(HttpRequest.newBuilder(URI.create(url(1029) + "/self/delete"))
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> loopbackOnly = get(url(4000) + "/");
        HttpResponse<String> nothing = get(url(3999) + "/");
        for (HttpResponse<String> refused : List.of(selfDelete, loopbackOnly, nothing)) {
            assertThat(refused.statusCode()).as(refused.uri().toString()).isEqualTo(502);
        }
        String port = "(1029|4000|3999)";
        assertThat(selfDelete.body().replaceAll(port, "N")).isEqualTo(nothing.body().replaceAll(port, "N"));
        assertThat(loopbackOnly.body().replaceAll(port, "N")).isEqualTo(nothing.body().replaceAll(port, "N"));
        assertThat(selfDelete.headers().map().keySet()).isEqualTo(nothing.headers().map().keySet());
        Thread.sleep(1500); // a self-signal would have been acted on by now (the watcher takes it at once)
        assertThat(api.get(base, api.aliceKey).data().get("status").asText()).isEqualTo("running");
        JsonNode stillServing = exec("bash", "-c", "(echo >/dev/tcp/127.0.0.1/1029) 2>/dev/null && echo up");
        assertThat(stillServing.get("result").get("stdout").asText()).isEqualTo("up\n");
        // An authenticated tunnel reaches loopback (4000, below) but never the self-signal port either.
        assertThat(tunnelStatus(api.aliceKey, 1029, "tcp")).startsWith("HTTP/1.1 502")
                .contains("nothing is listening on port 1029");
    }

    @Test
    @Order(3)
    void aTunnelCarriesRawBytesToALoopbackOnlyPortAndPassesAHalfClose() throws Exception {
        try (Socket socket = tunnel(api.aliceKey, 4000, "tcp")) {
            String head = readUntil(socket.getInputStream(), "\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("upgrade: tcp");
            OutputStream out = socket.getOutputStream();
            out.write("ping through the tunnel\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            assertThat(readUntil(socket.getInputStream(), "\n")).isEqualTo("ping through the tunnel\n");
            out.write("last words".getBytes(StandardCharsets.UTF_8));
            socket.shutdownOutput(); // the echo server ends its side when ours ends
            assertThat(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("last words");
        }
    }

    @Test
    @Order(3)
    void tunnelErrorsAreJsonBeforeTheUpgrade() throws Exception {
        assertThat(tunnelStatus(api.bobKey, 4000, "tcp")).startsWith("HTTP/1.1 404");
        assertThat(tunnelStatus(null, 4000, "tcp")).startsWith("HTTP/1.1 401");
        assertThat(tunnelStatus(api.aliceKey, 4000, null)).startsWith("HTTP/1.1 426");
        assertThat(tunnelStatus(api.aliceKey, 70000, "tcp")).startsWith("HTTP/1.1 400");
        String refused = tunnelStatus(api.aliceKey, 3999, "tcp");
        assertThat(refused).startsWith("HTTP/1.1 502").contains("nothing is listening on port 3999");
    }

    @Test
    @Order(4)
    void aPausedSandboxAnswers404AndServesAgainOnceResumed() throws Exception {
        Reply paused = api.post(base + "/pause", api.aliceKey, null);
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        assertThat(paused.data().get("status").asText()).isEqualTo("paused");
        HttpResponse<String> page = get(url(3000) + "/hello");
        assertThat(page.statusCode()).isEqualTo(404);
        assertThat(page.body()).contains("No sandbox here");
        assertThat(tunnelStatus(api.aliceKey, 4000, "tcp")).startsWith("HTTP/1.1 409");
        assertThat(api.post(base + "/resume", api.aliceKey, null).data().get("status").asText()).isEqualTo("running");
        assertThat(get(url(3000) + "/hello").statusCode()).isEqualTo(200);
    }

    @Test
    @Order(9)
    void aDestroyedSandboxHasNoNameAndNoTunnel() throws Exception {
        assertThat(api.delete(base, api.aliceKey).status()).isEqualTo(200);
        assertThat(get(url(3000) + "/hello").statusCode()).isEqualTo(404);
        assertThat(tunnelStatus(api.aliceKey, 4000, "tcp")).startsWith("HTTP/1.1 409");
        assertThat(api.get(base, api.aliceKey).data().has("ingress_url_template")).isFalse();
    }

    private String url(int port) {
        return template.replace("<port>", Integer.toString(port));
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Socket tunnel(String key, int port, String upgrade) throws Exception {
        Socket socket = new Socket("127.0.0.1", api.server.port());
        socket.setSoTimeout(60_000);
        String request = "POST " + base + "/tunnel/" + port + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + (key == null ? "" : "X-Api-Key: " + key + "\r\n")
                + (upgrade == null ? "" : "Connection: Upgrade\r\nUpgrade: " + upgrade + "\r\n")
                + "Content-Length: 0\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return socket;
    }

    /** The status line and, for an error, the JSON body. */
    private String tunnelStatus(String key, int port, String upgrade) throws Exception {
        try (Socket socket = tunnel(key, port, upgrade)) {
            String head = readUntil(socket.getInputStream(), "\r\n\r\n");
            int length = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                    .map(l -> Integer.parseInt(l.substring(15).trim())).findFirst().orElse(0);
            return head + new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
        }
    }

    private static String readUntil(InputStream in, String end) throws Exception {
        StringBuilder seen = new StringBuilder();
        while (!seen.toString().endsWith(end) && !(end.length() > 2 && seen.indexOf(end) >= 0)) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            seen.append((char) b);
        }
        return seen.toString();
    }

    private JsonNode exec(String cmd, String... args) throws Exception {
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", cmd, "args", List.of(args)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
