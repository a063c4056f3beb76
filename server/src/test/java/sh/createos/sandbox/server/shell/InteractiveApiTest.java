package sh.createos.sandbox.server.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.HttpHead;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * The interactive endpoints of issue 10 against one real sandbox: the CLI's keyless shell protocol byte for byte,
 * the WebSocket shell, concurrent tunnels with half-close, exec with stdin and env, delegated access tokens, and
 * what a foreign, paused and destroyed sandbox answers. The tunnel size per connection and direction is
 * {@code -Dinteractive.tunnel.mib} (the full 50 MiB; CI runs {@link #CI_TUNNEL_MIB}, see docs).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InteractiveApiTest {
    static final int CI_TUNNEL_MIB = 8;
    private static final int AUTO_PAUSE_SECONDS = 3;
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private TestApi api;
    private String id;
    private String base;

    @BeforeAll
    void bootOneSandbox() throws Exception {
        api = TestApi.start(dir, true, c -> c.withAutoPauseMinSeconds(AUTO_PAUSE_SECONDS));
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                "envs", map("MODE", "base", "OTHER", "kept")));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        id = created.data().get("id").asText();
        base = "/v1/sandboxes/" + id;
    }

    @AfterAll
    void cleanUp() {
        if (api != null) {
            api.close();
        }
    }

    /**
     * Waits until the guest runs {@code command}: a ^C that reaches bash after it forked the command but before the
     * command's exec is lost (bash leaves the signal pending, the exec drops it), so the test must not race that.
     */
    private void awaitGuestProcess(String command) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (api.post(base + "/exec", api.aliceKey, map("cmd", "pgrep", "args", List.of("-fx", command))).data()
                .get("result").get("exit_code").asInt() != 0) {
            assertThat(System.nanoTime()).as("%s running in the guest", command).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    // ---- exec extras (§6) ----

    @Test
    @Order(1)
    void tenMebibytesOfStdinReachSha256sumExactly() throws Exception {
        byte[] random = new byte[(10 << 20) * 3 / 4];
        new Random(10).nextBytes(random);
        String text = Base64.getEncoder().encodeToString(random); // 10 MiB of UTF-8 text
        assertThat(text.length()).isEqualTo(10 << 20);
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", "sha256sum", "stdin", text));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        JsonNode result = reply.data().get("result");
        assertThat(result.get("exit_code").asInt()).isZero();
        assertThat(result.get("stdout").asText()).isEqualTo(sha256(text.getBytes(StandardCharsets.UTF_8)) + "  -\n");
    }

    @Test
    @Order(1)
    void envOverridesDeclaredKeysAndStdinWorksStreamedToo() throws Exception {
        Reply env = api.post(base + "/exec", api.aliceKey, map("cmd", "sh", "args", List.of("-c",
                "echo $MODE $OTHER; cat"), "env", map("MODE", "ci"), "stdin", "from stdin\n", "stream", false));
        assertThat(env.status()).as(env.toString()).isEqualTo(200);
        assertThat(env.data().get("result").get("stdout").asText()).isEqualTo("ci kept\nfrom stdin\n");

        Reply noStdin = api.post(base + "/exec", api.aliceKey, map("cmd", "cat"));
        assertThat(noStdin.data().get("result").get("stdout").asText()).isEmpty();

        HttpRequest streamed = TestApi.withKey(api.request(base + "/exec?stream=true"), api.aliceKey)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(map("cmd", "sh", "args",
                        List.of("-c", "tr a-z A-Z; echo $MODE"), "env", map("MODE", "streamed"),
                        "stdin", "shout\n")))).build();
        String ndjson = new String(api.send(streamed).raw().body(), StandardCharsets.UTF_8);
        StringBuilder stdout = new StringBuilder();
        int exit = -1;
        for (String line : ndjson.split("\n")) {
            JsonNode frame = JSON.readTree(line);
            if (frame.has("stdout")) {
                stdout.append(frame.get("stdout").asText());
            }
            if (frame.has("exit_code")) {
                exit = frame.get("exit_code").asInt();
            }
        }
        assertThat(stdout.toString()).isEqualTo("SHOUT\nstreamed\n");
        assertThat(exit).isZero();

        Reply undeclared = api.post(base + "/exec", api.aliceKey, map("cmd", "true", "env",
                map("NEW_KEY", "x", "MODE", "ok")));
        assertThat(undeclared.status()).isEqualTo(400);
        assertThat(undeclared.json().get("data").get("message").asText()).contains("NEW_KEY").doesNotContain("MODE");
    }

    // ---- the CLI's shell protocol (§2) ----

    @Test
    @Order(2)
    void theCliShellProtocolResizesInterruptsAndEndsOnExit() throws Exception {
        try (Socket socket = upgrade("/shell", api.aliceKey, "tcp-tunnel")) {
            String head = HttpHead.read(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("Upgrade: tcp-tunnel");
            Output out = new Output(socket.getInputStream());
            DataOutputStream frames = new DataOutputStream(socket.getOutputStream());
            resize(frames, 24, 80); // the CLI's first frame
            resize(frames, 50, 132);
            type(frames, "stty size; echo TERM=$TERM\r");
            out.await("50 132");
            out.await("TERM=xterm-256color");
            type(frames, "sleep 100\r");
            awaitGuestProcess("sleep 100");
            type(frames, "\u0003");
            type(frames, "echo rc=$?\r");
            out.await("rc=130");
            type(frames, "exit 3\r");
            out.awaitEnd();
        }
    }

    @Test
    @Order(2)
    void closingTheShellConnectionEndsTheSessionButNotDetachedProcesses() throws Exception {
        try (Socket socket = upgrade("/shell?term=vt100", api.aliceKey, "tcp-tunnel")) {
            assertThat(HttpHead.read(socket.getInputStream())).startsWith("HTTP/1.1 101");
            Output out = new Output(socket.getInputStream());
            DataOutputStream frames = new DataOutputStream(socket.getOutputStream());
            type(frames, "echo TERM=$TERM; sleep 1231 & setsid sleep 1232 & echo started\r");
            out.await("TERM=vt100");
            out.await("started");
        }
        // The job in the shell's session is hung up; the one in a session of its own keeps running.
        String left = "";
        for (int i = 0; i < 100; i++) {
            left = execOut("sh", "-c", "pgrep -f 'sleep 123[12]' -a || true");
            if (!left.contains("sleep 1231") && left.contains("sleep 1232")) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(left).doesNotContain("sleep 1231").contains("sleep 1232");
        assertThat(execOut("sh", "-c", "pgrep -f -- '-l$' -a || true")).doesNotContain("bash -l");
        execOut("pkill", "-f", "sleep 1232");
    }

    // ---- the WebSocket shell (§3) ----

    @Test
    @Order(2)
    void theWebSocketShellResizesInterruptsAndReportsTheExitCode() throws Exception {
        WsClient ws = WsClient.open(api, base + "/shell-ws?rows=30&cols=90", api.aliceKey);
        assertThat(ws.socket.getSubprotocol()).isEqualTo(ShellRoutes.WS_SUBPROTOCOL);
        ws.input("stty size\r");
        ws.await("30 90");
        ws.socket.sendText("{\"type\":\"resize\",\"rows\":50,\"cols\":132}", true).get(30, TimeUnit.SECONDS);
        ws.socket.sendText("{\"type\":\"input\",\"data\":\"stty size\\r\"}", true).get(30, TimeUnit.SECONDS);
        ws.await("50 132");
        ws.input("sleep 101\r");
        awaitGuestProcess("sleep 101");
        ws.input("\u0003");
        ws.input("echo rc=$?\r");
        ws.await("rc=130");
        ws.input("exit 3\r");
        JsonNode exit = JSON.readTree(ws.lastText.get(60, TimeUnit.SECONDS));
        assertThat(exit.get("type").asText()).isEqualTo("exit");
        assertThat(exit.get("exit_code").asInt()).isEqualTo(3);
        assertThat(ws.closeCode.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
    }

    @Test
    @Order(2)
    void browsersUseASingleUseTicketInTheQuery() throws Exception {
        Reply ticket = api.post(base + "/shell-ws/ticket", api.aliceKey, map());
        assertThat(ticket.status()).as(ticket.toString()).isEqualTo(200);
        String token = ticket.data().get("token").asText();
        assertThat(token).startsWith("wst_");
        WsClient ws = WsClient.open(api, base + "/shell-ws?token=" + token, "");
        ws.input("echo via-ticket-$((6*7))\r");
        ws.await("via-ticket-42");
        ws.socket.sendClose(1000, "bye").get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> WsClient.open(api, base + "/shell-ws?token=" + token, ""))
                .hasMessageContaining("HTTP 401");
        Reply bobs = api.post(base + "/shell-ws/ticket", api.bobKey, map());
        assertThat(bobs.status()).isEqualTo(404);
    }

    // ---- tunnels (§4) ----

    @Test
    @Order(3)
    void twentyConcurrentTunnelsMoveDataBothWaysAndPassHalfCloses() throws Exception {
        int mib = Integer.getInteger("interactive.tunnel.mib", CI_TUNNEL_MIB);
        long size = (long) mib << 20;
        byte[] script;
        try (InputStream in = getClass().getResourceAsStream("/guest/tunnel-sha-server.js")) {
            script = in.readAllBytes();
        }
        Reply put = api.send(TestApi.withKey(api.request(base + "/files?path=%2Froot%2Ftun.js"), api.aliceKey)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(script)).build());
        assertThat(put.status()).as(put.toString()).isEqualTo(200);
        execOut("bash", "-c", "nohup setsid node /root/tun.js " + size + " 5005 >/tmp/tun.log 2>&1 &");
        assertThat(execOut("bash", "-c", "for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/5005) 2>/dev/null"
                + " && echo up && exit 0; sleep 0.2; done; cat /tmp/tun.log")).contains("up");

        long started = System.nanoTime();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> connections = new ArrayList<>();
        for (int c = 0; c < 20; c++) {
            int seed = c;
            connections.add(pool.submit(() -> {
                oneTunnel(seed, size);
                return null;
            }));
        }
        for (Future<?> connection : connections) {
            connection.get(30, TimeUnit.MINUTES);
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("20 tunnels x %d MiB each way: %.1f s (%.1f MiB/s total)%n", mib, seconds,
                40.0 * mib / seconds);
    }

    private void oneTunnel(int seed, long size) throws Exception {
        try (Socket socket = upgrade("/tunnel/5005", api.aliceKey, "tcp-tunnel")) {
            socket.setSoTimeout(600_000);
            InputStream in = socket.getInputStream();
            assertThat(HttpHead.read(in)).startsWith("HTTP/1.1 101").containsIgnoringCase("Upgrade: tcp-tunnel");
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    Random random = new Random(seed);
                    byte[] chunk = new byte[64 * 1024];
                    for (long left = size; left > 0; left -= chunk.length) {
                        random.nextBytes(chunk);
                        int n = (int) Math.min(chunk.length, left);
                        sent.update(chunk, 0, n);
                        out.write(chunk, 0, n);
                    }
                    out.flush();
                    socket.shutdownOutput(); // half-close: the guest sees 'end' and still answers
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            long left = size;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                assertThat(n).as("guest data cut off with %d bytes left", left).isPositive();
                got.update(buffer, 0, n);
                left -= n;
            }
            writer.get(30, TimeUnit.MINUTES);
            // Only after our FIN does the guest send its verdict, then its own FIN: we see end of stream.
            String verdict = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(verdict).isEqualTo(HexFormat.of().formatHex(got.digest()) + " "
                    + HexFormat.of().formatHex(sent.digest()) + "\n");
        }
    }

    // ---- delegated access tokens (§8) ----

    @Test
    @Order(4)
    void anAccessTokenIsScopedToItsSandboxAndToRuntimeCalls() throws Exception {
        Reply created = api.post(base + "/access-token", api.aliceKey, "");
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        String token = created.data().get("token").asText();
        assertThat(token).startsWith("skp_sb_");
        assertThat(created.data().get("enabled").asBoolean()).isTrue();
        assertThat(api.post(base + "/access-token", api.aliceKey, "").status()).isEqualTo(409);
        assertThat(api.post(base + "/access-token", api.bobKey, "").status()).isEqualTo(404);

        JsonNode meta = api.get(base + "/access-token", api.aliceKey).data();
        assertThat(meta.get("token_hint").asText())
                .isEqualTo(token.substring(0, 9) + "..." + token.substring(token.length() - 4));
        var stored = api.server.store().accessToken(id).orElseThrow();
        assertThat(stored.tokenHash()).isEqualTo(sha256(token.getBytes(StandardCharsets.UTF_8)))
                .doesNotContain(token);

        // Runtime calls on its own sandbox work, in X-Api-Key (as the SDKs send it) and as a Bearer token.
        assertThat(api.get(base, token).status()).isEqualTo(200);
        Reply exec = api.post(base + "/exec", token, map("cmd", "echo", "args", List.of("worker")));
        assertThat(exec.data().get("result").get("stdout").asText()).isEqualTo("worker\n");
        Reply bearer = api.send(api.request(base).header("Authorization", "Bearer " + token).GET().build());
        assertThat(bearer.status()).isEqualTo(200);
        try (Socket shell = upgrade("/shell", token, "tcp-tunnel")) {
            assertThat(HttpHead.read(shell.getInputStream())).startsWith("HTTP/1.1 101");
        }
        // Management and account calls are 403; another sandbox is 404.
        assertThat(api.delete(base, token).status()).isEqualTo(403);
        assertThat(api.patch(base, token, map("auto_pause_after_seconds", 600)).status()).isEqualTo(403);
        assertThat(api.post(base + "/pause", token, "").status()).isEqualTo(403);
        assertThat(api.post(base + "/access-token/rotate", token, "").status()).isEqualTo(403);
        assertThat(api.get(base + "/access-token", token).status()).isEqualTo(403);
        Reply list = api.get("/v1/sandboxes", token);
        assertThat(list.status()).isEqualTo(403);
        assertThat(list.json().get("data").get("message").asText())
                .isEqualTo("delegated token not allowed for this operation");
        assertThat(api.get("/v1/whoami", token).status()).isEqualTo(403);
        assertThat(api.get("/v1/sandboxes/sb-01JAAAAAAAAAAAAAAAAAAAAAAA", token).status()).isEqualTo(404);
        assertThat(api.post("/v1/sandboxes/sb-01JAAAAAAAAAAAAAAAAAAAAAAA/exec", token, map("cmd", "true"))
                .status()).isEqualTo(404);

        // Rotate: the old token stops working at once, the new one works.
        Reply rotated = api.post(base + "/access-token/rotate", api.aliceKey, "");
        assertThat(rotated.status()).isEqualTo(200);
        String second = rotated.data().get("token").asText();
        assertThat(rotated.data().has("rotated_at")).isTrue();
        assertThat(api.get(base, token).status()).isEqualTo(401);
        assertThat(api.get(base, second).status()).isEqualTo(200);

        // Delete is idempotent; after it the token is dead and the metadata says disabled.
        assertThat(api.delete(base + "/access-token", api.aliceKey).data().get("enabled").asBoolean()).isFalse();
        assertThat(api.delete(base + "/access-token", api.aliceKey).status()).isEqualTo(200);
        assertThat(api.get(base, second).status()).isEqualTo(401);
        assertThat(api.get(base + "/access-token", api.aliceKey).data().toString()).isEqualTo("{\"enabled\":false}");
        assertThat(api.post(base + "/access-token/rotate", api.aliceKey, "").status()).isEqualTo(404);
    }

    // ---- foreign ids, bad input, pause, destroy (§1, item 8) ----

    @Test
    @Order(5)
    void foreignIdsAndBadInputAreRefusedBeforeTheUpgrade() throws Exception {
        assertThat(status("/shell", api.bobKey, "tcp-tunnel")).startsWith("HTTP/1.1 404");
        assertThat(status("/tunnel/5005", api.bobKey, "tcp-tunnel")).startsWith("HTTP/1.1 404");
        assertThat(status("/shell", null, "tcp-tunnel")).startsWith("HTTP/1.1 401");
        assertThat(status("/shell", api.aliceKey, "")).startsWith("HTTP/1.1 400")
                .contains("expected Upgrade: tcp-tunnel");
        assertThat(status("/shell?term=x%3By", api.aliceKey, "tcp-tunnel")).startsWith("HTTP/1.1 400");
        assertThat(status("/tunnel/0", api.aliceKey, "tcp-tunnel")).startsWith("HTTP/1.1 400");
        assertThat(status("/tunnel/3999", api.aliceKey, "tcp-tunnel")).startsWith("HTTP/1.1 502")
                .contains("nothing is listening on port 3999");
        assertThatThrownBy(() -> WsClient.open(api, base + "/shell-ws", api.bobKey)).hasMessageContaining("HTTP 404");
        assertThat(api.get(base + "/shell-ws", api.aliceKey).status()).isEqualTo(426);
        assertThat(api.get(base + "/shell-ws?rows=0", api.aliceKey).status()).isEqualTo(426);
        assertThatThrownBy(() -> WsClient.open(api, base + "/shell-ws?rows=0", api.aliceKey))
                .hasMessageContaining("HTTP 400");
    }

    // ---- activity for idle auto-pause (§1) ----

    @Test
    @Order(5)
    void anOpenShellAndAnOpenTunnelHoldOffIdleAutoPauseUntilBothClose() throws Exception {
        execOut("bash", "-c", "nohup setsid node -e \"require('net').createServer(s=>{s.on('error',()=>{});"
                + "s.pipe(s)}).listen(5007)\" >/dev/null 2>&1 &");
        assertThat(execOut("bash", "-c", "for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/5007) 2>/dev/null"
                + " && echo up && exit 0; sleep 0.2; done")).contains("up");
        Socket shell = upgrade("/shell", api.aliceKey, "tcp-tunnel");
        assertThat(HttpHead.read(shell.getInputStream())).startsWith("HTTP/1.1 101");
        Output shellOut = new Output(shell.getInputStream());
        Socket tunnel = upgrade("/tunnel/5007", api.aliceKey, "tcp-tunnel");
        assertThat(HttpHead.read(tunnel.getInputStream())).startsWith("HTTP/1.1 101");
        try {
            Reply patched = api.patch(base, api.aliceKey, map("auto_pause_after_seconds", AUTO_PAUSE_SECONDS));
            assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
            // Both silent for three idle periods: neither a keystroke nor a byte, only the open connections.
            Thread.sleep(3000L * AUTO_PAUSE_SECONDS);
            assertThat(sandboxStatus()).as("with a shell and a tunnel open").isEqualTo("running");
            DataOutputStream frames = new DataOutputStream(shell.getOutputStream());
            type(frames, "exit\r");
            shellOut.awaitEnd();
            shell.close();
            Thread.sleep(3000L * AUTO_PAUSE_SECONDS);
            assertThat(sandboxStatus()).as("with the tunnel still open").isEqualTo("running");
            tunnel.close();
            String status = "";
            for (int i = 0; i < 600 && !status.equals("paused"); i++) {
                Thread.sleep(100);
                status = sandboxStatus();
            }
            assertThat(status).as("once both closed").isEqualTo("paused");
        } finally {
            shell.close();
            tunnel.close();
        }
        assertThat(api.post(base + "/resume", api.aliceKey, "").status()).isEqualTo(200);
        assertThat(api.patch(base, api.aliceKey, map("disable_auto_pause", true)).status()).isEqualTo(200);
    }

    private String sandboxStatus() throws Exception {
        return api.get(base, api.aliceKey).data().get("status").asText();
    }

    @Test
    @Order(6)
    void pausingClosesOpenShellsAndTunnelsAndRefusesNewOnesThenDestroyRevokesTheToken() throws Exception {
        String token = api.post(base + "/access-token", api.aliceKey, "").data().get("token").asText();
        execOut("bash", "-c", "nohup setsid node -e \"require('net').createServer(s=>{s.on('error',()=>{});"
                + "s.pipe(s)}).listen(5006)\" >/dev/null 2>&1 &");
        assertThat(execOut("bash", "-c", "for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/5006) 2>/dev/null"
                + " && echo up && exit 0; sleep 0.2; done")).contains("up");
        Socket shell = upgrade("/shell", api.aliceKey, "tcp-tunnel");
        assertThat(HttpHead.read(shell.getInputStream())).startsWith("HTTP/1.1 101");
        Output shellOut = new Output(shell.getInputStream());
        Socket tunnel = upgrade("/tunnel/5006", api.aliceKey, "tcp-tunnel");
        assertThat(HttpHead.read(tunnel.getInputStream())).startsWith("HTTP/1.1 101");
        WsClient ws = WsClient.open(api, base + "/shell-ws", api.aliceKey);

        Reply paused = api.post(base + "/pause", api.aliceKey, "");
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        shellOut.awaitEnd();
        tunnel.setSoTimeout(60_000);
        assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
        assertThat(ws.closeCode.get(60, TimeUnit.SECONDS)).isNotEqualTo(1000);
        shell.close();
        tunnel.close();

        assertThat(status("/shell", api.aliceKey, "tcp-tunnel")).startsWith("HTTP/1.1 409");
        assertThat(status("/tunnel/5006", api.aliceKey, "tcp-tunnel")).startsWith("HTTP/1.1 409");
        assertThat(api.post(base + "/exec", api.aliceKey, map("cmd", "true", "stdin", "x")).status()).isEqualTo(409);
        assertThatThrownBy(() -> WsClient.open(api, base + "/shell-ws", api.aliceKey)).hasMessageContaining("HTTP 409");
        assertThat(api.get(base, token).status()).isEqualTo(200); // survives the pause

        assertThat(api.delete(base, api.aliceKey).status()).isEqualTo(200);
        assertThat(api.get(base, token).status()).isEqualTo(401);
        assertThat(api.server.store().accessToken(id)).isEmpty();
    }

    // ---- helpers ----

    private String execOut(String cmd, String... args) throws Exception {
        Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", cmd, "args", List.of(args)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("result").get("stdout").asText();
    }

    private Socket upgrade(String path, String key, String token) throws IOException {
        Socket socket = new Socket("127.0.0.1", api.server.port());
        socket.setSoTimeout(60_000);
        String request = "POST " + base + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + (key == null ? "" : "X-Api-Key: " + key + "\r\n")
                + (token == null ? "" : "Connection: Upgrade\r\nUpgrade: " + token + "\r\n")
                + "Content-Length: 0\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return socket;
    }

    private String status(String path, String key, String token) throws IOException {
        try (Socket socket = upgrade(path, key, token)) {
            String head = HttpHead.read(socket.getInputStream());
            int length = head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                    .map(l -> Integer.parseInt(l.substring(15).trim())).findFirst().orElse(0);
            return head + new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
        }
    }

    private static void resize(DataOutputStream out, int rows, int cols) throws IOException {
        out.writeByte(1);
        out.writeInt(4);
        out.writeShort(rows);
        out.writeShort(cols);
        out.flush();
    }

    private static void type(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeByte(0);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Everything a shell connection printed, collected on a thread, and its end. */
    private static final class Output {
        private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
        private final CompletableFuture<Void> ended = new CompletableFuture<>();

        Output(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[8192];
                try {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        synchronized (seen) {
                            seen.write(buffer, 0, n);
                            seen.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // a reset also ends the session
                }
                ended.complete(null);
            });
        }

        void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            synchronized (seen) {
                while (!seen.toString(StandardCharsets.UTF_8).contains(text)) {
                    long left = deadline - System.nanoTime();
                    assertThat(left).as("waiting for %s in: %s", text, seen.toString(StandardCharsets.UTF_8))
                            .isPositive();
                    seen.wait(Math.max(1, left / 1_000_000));
                }
            }
        }

        void awaitEnd() throws Exception {
            ended.get(60, TimeUnit.SECONDS);
        }
    }

    /** The JDK's WebSocket client on shell-ws. */
    private static final class WsClient implements WebSocket.Listener {
        final StringBuilder output = new StringBuilder();
        final CompletableFuture<String> lastText = new CompletableFuture<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        WebSocket socket;

        static WsClient open(TestApi api, String pathAndQuery, String key) throws Exception {
            WsClient client = new WsClient();
            var builder = api.client().newWebSocketBuilder().subprotocols(ShellRoutes.WS_SUBPROTOCOL);
            if (key != null) {
                builder.header("X-Api-Key", key);
            }
            try {
                client.socket = builder.buildAsync(URI.create(api.uri(pathAndQuery).toString()
                        .replace("http:", "ws:")), client).get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
                    Object body = refused.getResponse().body();
                    throw new AssertionError("handshake refused: HTTP " + refused.getResponse().statusCode() + " "
                            + (body instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : body), e);
                }
                throw e;
            }
            return client;
        }

        void input(String text) throws Exception {
            socket.sendBinary(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true).get(30, TimeUnit.SECONDS);
        }

        void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            synchronized (output) {
                while (output.indexOf(text) < 0) {
                    long left = deadline - System.nanoTime();
                    assertThat(left).as("waiting for %s in: %s", text, output).isPositive();
                    output.wait(Math.max(1, left / 1_000_000));
                }
            }
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            synchronized (output) {
                output.append(new String(bytes, StandardCharsets.UTF_8));
                output.notifyAll();
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            lastText.complete(data.toString());
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closeCode.complete(-1);
            lastText.completeExceptionally(error);
        }
    }
}
