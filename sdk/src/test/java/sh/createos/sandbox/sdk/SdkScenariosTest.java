package sh.createos.sandbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.ForkSandboxRequest;
import sh.createos.sandbox.model.Network;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.network.TestNetworks;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * Every scenario of {@code server/src/test/sdk/compat.mjs}, written with this SDK against a real in-process server
 * with real VMs, in the same order on one sandbox, plus what the Java SDK adds: exec stdin and env, port
 * forwarding, waits for a port, the async view and typed 409s.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SdkScenariosTest {
    private static final int DESTROYED_ROWS = 503;
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    static Path dir;
    static NetworkConfig network;
    static TestApi api;
    static SandboxClient client;
    static Sandbox sandbox;

    @BeforeAll
    static void start() throws Exception {
        network = TestNetworks.config(dir);
        api = TestApi.start(dir, true, c -> c.withNetwork(network));
        for (int i = 0; i < DESTROYED_ROWS; i++) {
            api.server.store().insertSandbox(new SandboxRecord("sb_" + Ulid.next(), api.alice.id(), "old-" + i,
                    SandboxStatus.DESTROYED, "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, null, false, null,
                    Map.of(), List.of(), List.of(), SandboxService.DEFAULT_BANDWIDTH_QUOTA, 1L, Instant.now(), null,
                    Instant.now(), null, api.alice.email()));
        }
        client = clientFor(api.aliceKey);
    }

    static SandboxClient clientFor(String key) {
        return SandboxClient.builder(Map.of()).baseUrl("http://127.0.0.1:" + api.server.port()).apiKey(key)
                .timeout(Duration.ofMinutes(3)).build();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (client != null) {
                client.close();
            }
            if (api != null) {
                api.close();
            }
        } finally {
            if (network != null) {
                TestNetworks.destroy(network);
            }
        }
    }

    @Test
    @Order(1)
    void catalogIdentityAndTypedErrors() {
        assertThat(client.healthz()).isTrue();
        assertThat(client.whoami().userId()).startsWith("u_");
        assertThat(client.listShapes()).extracting(s -> s.id()).contains("s-1vcpu-256mb", "s-1vcpu-512mb",
                "s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-4gb");
        assertThat(client.listRootfs().rootfs()).contains("devbox:1");
        assertThat(client.listRootfs().defaultRootfs()).isEqualTo("devbox:1");
        assertThat(client.listHosts()).isNotEmpty();
        try (SandboxClient wrong = clientFor("sk_not_a_real_key")) {
            assertThatThrownBy(wrong::whoami).isInstanceOf(AuthenticationException.class)
                    .satisfies(e -> assertThat(((SandboxApiException) e).code()).isEqualTo(ErrorCode.UNAUTHORIZED));
        }
        assertThatThrownBy(() -> client.getSandbox("sb_01J0000000000000000000000"))
                .isInstanceOfSatisfying(NotFoundException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.requestId()).startsWith("req_");
                    assertThat(e.method()).isEqualTo("GET");
                    assertThat(e.endpoint()).isEqualTo("/v1/sandboxes/sb_01J0000000000000000000000");
                });
        assertThatThrownBy(() -> client.createSandbox(CreateSandboxRequest.builder().shape("s-99vcpu-1tb").build()))
                .isInstanceOf(ValidationException.class);
    }

    @Test
    @Order(2)
    void createSandbox() {
        sandbox = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-256mb").rootfs("devbox:1")
                .env("GREETING", "hi there").env("MODE", "default").build());
        assertThat(sandbox.id()).startsWith("sb_");
        assertThat(sandbox.status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(sandbox.data().envs()).containsExactlyInAnyOrder("GREETING", "MODE");
    }

    @Test
    @Order(3)
    void runCommandAndSh() {
        ExecResult out = sandbox.runCommand("echo", List.of("hello", "world"));
        assertThat(out.stdout()).isEqualTo("hello world\n");
        assertThat(out.exitCode()).isZero();
        ExecResult bad = sandbox.runCommand("sh", List.of("-c", "echo boom >&2; exit 3"));
        assertThat(bad.exitCode()).isEqualTo(3);
        assertThat(bad.stderr()).isEqualTo("boom\n");
        assertThat(sandbox.sh("echo \"$GREETING\"").stdout()).isEqualTo("hi there\n");
        assertThatThrownBy(() -> sandbox.sh("echo nope >&2; exit 7"))
                .isInstanceOfSatisfying(CommandFailedException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(7);
                    assertThat(e.result().stderr()).isEqualTo("nope\n");
                });
    }

    @Test
    @Order(4)
    void streamCommand() {
        List<ExecEvent> events = new ArrayList<>();
        try (ExecStream stream = sandbox.streamCommand("bash", List.of("-c", "echo one; echo two >&2; exit 4"))) {
            stream.forEach(events::add);
        }
        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        for (ExecEvent e : events) {
            if (e instanceof ExecEvent.Stdout s) {
                stdout.append(s.data());
            } else if (e instanceof ExecEvent.Stderr s) {
                stderr.append(s.data());
            }
        }
        assertThat(stdout.toString()).isEqualTo("one\n");
        assertThat(stderr.toString()).isEqualTo("two\n");
        assertThat(events.get(events.size() - 1)).isEqualTo(new ExecEvent.Exit(4));
    }

    @Test
    @Order(5)
    void execStdinAndEnv() {
        ExecResult piped = sandbox.runCommand(ExecRequest.builder("sh").args("-c", "tr a-z A-Z; echo \"$MODE\"")
                .stdin("streamed stdin\nsecond line\n").env("MODE", "override").build());
        assertThat(piped.stdout()).isEqualTo("STREAMED STDIN\nSECOND LINE\noverride\n");
        ExecResult counted = sandbox.streamCommand(ExecRequest.builder("wc").args("-l")
                .stdin(new java.io.ByteArrayInputStream("a\nb\nc\n".getBytes(StandardCharsets.UTF_8))).build())
                .collect();
        assertThat(counted.stdout().strip()).isEqualTo("3");
    }

    @Test
    @Order(6)
    void filesUploadAndDownload(@TempDir Path local) throws Exception {
        byte[] bytes = new byte[300 * 1024];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ((i * 31 + 7) & 0xff);
        }
        sandbox.files().upload("/tmp/compat dir/data.bin", bytes);
        assertThat(sandbox.files().readAllBytes("/tmp/compat dir/data.bin")).isEqualTo(bytes);
        Path file = Files.write(local.resolve("up.bin"), bytes);
        sandbox.files().upload("/tmp/compat dir/from-path.bin", file);
        try (InputStream in = sandbox.files().download("/tmp/compat dir/from-path.bin")) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(sandbox.files().download("/tmp/compat dir/data.bin", local.resolve("down.bin")))
                .isEqualTo(bytes.length);
        assertThatThrownBy(() -> sandbox.files().download("/tmp/does-not-exist")).isInstanceOf(NotFoundException.class);
    }

    @Test
    @Order(7)
    void getListAndPageAcrossMoreThanOnePage() {
        assertThat(client.getSandbox(sandbox.id()).status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(client.listSandboxes().stream().map(Sandbox::id)).contains(sandbox.id());
        long destroyed = client.listSandboxes(SandboxStatus.DESTROYED).stream()
                .peek(s -> assertThat(s.status()).isEqualTo(SandboxStatus.DESTROYED)).count();
        assertThat(destroyed).isEqualTo(DESTROYED_ROWS);
    }

    @Test
    @Order(8)
    void setAutoPause() {
        sandbox.setAutoPause(Duration.ofSeconds(120));
        assertThat(sandbox.data().autoPauseAfterSeconds()).isEqualTo(120);
        sandbox.setAutoPause(null);
        assertThat(sandbox.data().autoPauseAfterSeconds()).isNull();
    }

    @Test
    @Order(9)
    void ingressAndPreviewUrl() throws Exception {
        assertThatThrownBy(() -> sandbox.previewUrl(3000)).isInstanceOf(IllegalStateException.class);
        sandbox.setIngress(true);
        String url = sandbox.previewUrl(3000, "http");
        assertThat(url).matches("^http://[0-9a-z]{26}-3000\\.sb\\.localhost:\\d+$");
        sandbox.sh("mkdir -p /srv/www && echo 'hello through the ingress' > /srv/www/index.html"
                + " && (nohup setsid python3 -m http.server 3000 --directory /srv/www >/tmp/www.log 2>&1 &)");
        sandbox.waitForPort(3000, WAIT);
        HttpResponse<String> page = throughIngress(url + "/index.html");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo("hello through the ingress\n");
        sandbox.setIngress(false);
        assertThatThrownBy(() -> sandbox.previewUrl(3000)).isInstanceOf(IllegalStateException.class);
        assertThat(throughIngress(url + "/index.html").statusCode()).isEqualTo(404);
    }

    /** *.localhost is loopback (RFC 6761): connect to 127.0.0.1 and name the host in the Host header. */
    private static HttpResponse<String> throughIngress(String url) throws Exception {
        URI uri = URI.create(url);
        HttpRequest request = HttpRequest.newBuilder(new URI("http", null, "127.0.0.1", uri.getPort(), uri.getPath(),
                null, null)).header("Host", uri.getHost() + ":" + uri.getPort()).build();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    @Order(10)
    void egressAndBandwidth() {
        assertThat(sandbox.getEgress()).isEmpty();
        List<String> rules = List.of("registry.npmjs.org:443", "*.github.com", "10.0.0.0/8");
        assertThat(sandbox.setEgress(rules)).isEqualTo(rules);
        assertThatThrownBy(() -> sandbox.setEgress(List.of("not a rule"))).isInstanceOf(ValidationException.class);
        assertThat(sandbox.getEgress()).isEqualTo(rules);
        assertThat(sandbox.setEgress(null)).isEmpty();
        assertThat(sandbox.getBandwidth().quotaBytes()).isEqualTo(10737418240L);
        assertThat(sandbox.getBandwidth().capped()).isFalse();
        assertThat(sandbox.rechargeBandwidth(1024).quotaBytes()).isEqualTo(10737418240L + 1024);
    }

    @Test
    @Order(11)
    void networks() {
        Network net = client.networks().create("compat-net");
        assertThat(net.id()).startsWith("net_");
        assertThat(client.networks().list().stream())
                .anyMatch(n -> n.id().equals(net.id()) && n.memberCount() == 0);
        assertThat(client.networks().get(net.id()).members()).isEmpty();
        assertThatThrownBy(() -> client.networks().create("compat-net")).isInstanceOfSatisfying(
                ConflictException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_TAKEN));
        client.networks().delete(net.id());
        assertThatThrownBy(() -> client.networks().get(net.id())).isInstanceOf(NotFoundException.class);
    }

    @Test
    @Order(12)
    void byIpAndAttachDetach() {
        assertThat(sandbox.data().ip()).matches("\\d+\\.\\d+\\.\\d+\\.\\d+");
        assertThat(client.getSandboxByIp(sandbox.data().ip()).id()).isEqualTo(sandbox.id());
        Network net = client.networks().create("compat-attach");
        sandbox.attachNetwork(net.id());
        Network.Member member = client.networks().get(net.id()).members().stream()
                .filter(m -> m.sandboxId().equals(sandbox.id())).findFirst().orElseThrow();
        assertThat(member.ip()).matches("\\d+\\.\\d+\\.\\d+\\.\\d+");
        assertThat(sandbox.sh("ip -4 -o addr show").stdout()).contains(" " + member.ip() + "/");
        assertThatThrownBy(() -> client.networks().delete(net.id())).isInstanceOf(SandboxApiException.class)
                .satisfies(e -> assertThat(((SandboxApiException) e).statusCode()).isBetween(400, 499));
        sandbox.detachNetwork(net.id());
        assertThat(client.networks().get(net.id()).members()).isEmpty();
        client.networks().delete(net.id());
    }

    @Test
    @Order(13)
    void forwardPortCarriesManyConnections() throws Exception {
        sandbox.sh("(nohup setsid python3 -c \"import socket\n"
                + "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                + "s.bind(('127.0.0.1', 8000)); s.listen(8)\n"
                + "while True:\n"
                + "    c,_=s.accept(); d=b''\n"
                + "    while True:\n"
                + "        b=c.recv(65536)\n"
                + "        if not b: break\n"
                + "        d+=b\n"
                + "    c.sendall(d.upper()); c.close()\n\" >/tmp/echo.log 2>&1 &)");
        sandbox.waitForPort(8000, WAIT);
        try (PortForward forward = sandbox.forwardPort(8000)) {
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket("127.0.0.1", forward.localPort())) {
                    OutputStream out = s.getOutputStream();
                    out.write(("connection " + i + " through the tunnel").getBytes(StandardCharsets.UTF_8));
                    s.shutdownOutput(); // half-close: the guest reads EOF, then answers
                    assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                            .isEqualTo("CONNECTION " + i + " THROUGH THE TUNNEL");
                }
            }
        }
        assertThatThrownBy(() -> sandbox.waitForPort(8001, Duration.ofSeconds(1)))
                .isInstanceOf(WaitTimeoutException.class);
    }

    @Test
    @Order(20)
    void pauseForkResumeDestroyWithTheAsyncView() throws Exception {
        sandbox.runCommand("sh", List.of("-c", "echo before-pause > /root/marker"));
        sandbox.pause();
        assertThat(sandbox.status()).isIn(SandboxStatus.PAUSING, SandboxStatus.PAUSED);
        sandbox.async().waitUntilPaused(WAIT).get();
        assertThat(sandbox.status()).isEqualTo(SandboxStatus.PAUSED);
        assertThat(sandbox.data().pausedAt()).isNotNull();
        assertThatThrownBy(() -> sandbox.runCommand("true")).isInstanceOf(ConflictException.class);
        CompletableFuture<Sandbox> forked = sandbox.async()
                .fork(new ForkSandboxRequest(null, null, null, null, Map.of("GREETING", "from the fork"), null));
        Sandbox child = forked.get();
        assertThat(child.id()).isNotEqualTo(sandbox.id());
        assertThat(child.data().forkedFrom()).isEqualTo(sandbox.id());
        child.waitUntilRunning(WAIT);
        assertThat(child.sh("cat /root/marker; echo \"$GREETING\"").stdout()).isEqualTo("before-pause\nfrom the fork\n");
        sandbox.async().resume().thenCompose(s -> s.async().waitUntilRunning(WAIT)).get();
        assertThat(sandbox.data().lastResumedAt()).isNotNull();
        assertThat(sandbox.sh("cat /root/marker; echo \"$GREETING\"").stdout()).isEqualTo("before-pause\nhi there\n");
        child.destroy();
        child.waitUntilDestroyed(WAIT);
    }

    @Test
    @Order(21)
    void destroyAndWaitUntilDestroyed() {
        assertThat(sandbox.destroy().status()).isIn(SandboxStatus.DESTROYING, SandboxStatus.DESTROYED);
        sandbox.waitUntilDestroyed(WAIT);
        assertThat(sandbox.status()).isEqualTo(SandboxStatus.DESTROYED);
        assertThat(sandbox.destroy().status()).isEqualTo(SandboxStatus.DESTROYED);
    }
}
