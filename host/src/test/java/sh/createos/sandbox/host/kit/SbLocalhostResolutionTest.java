package sh.createos.sandbox.host.kit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.host.proc.Command;

/**
 * The ingress hands out {@code http://<id>-<port>.sb.localhost:<port>/} URLs; setup makes the machine's resolver
 * answer them (libnss-myhostname in nsswitch.conf), so that every client on the box reaches an IPv4 loopback listener
 * like the ingress through them: Java, Node's dns.lookup and fetch, Python's getaddrinfo and urllib, curl.
 */
class SbLocalhostResolutionTest {
    private static final String NAME = "abc-8000.sb.localhost";
    private static HttpServer server;
    private static String url;

    @BeforeAll
    static void listenOnIpv4Loopback() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = ("ok " + exchange.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        url = "http://" + NAME + ":" + server.getAddress().getPort() + "/";
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static String expectedBody() {
        return "ok " + NAME + ":" + server.getAddress().getPort();
    }

    @Test
    void javaResolvesToLoopbackAndConnects() throws Exception {
        assertThat(Arrays.stream(InetAddress.getAllByName(NAME))).isNotEmpty().allMatch(InetAddress::isLoopbackAddress);
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> reply = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(reply.body()).isEqualTo(expectedBody());
        }
    }

    @Test
    void nodeResolvesToLoopbackAndFetches() throws Exception {
        String script = "const dns = require('dns');"
                + "dns.lookup(process.argv[1], {all: true}, async (err, addrs) => {"
                + "  if (err) { console.error(String(err)); process.exit(2); }"
                + "  console.log(addrs.map(a => a.address).join(','));"
                + "  const reply = await fetch(process.argv[2]);"
                + "  console.log(await reply.text());"
                + "});";
        List<String> lines = run("node", "-e", script, NAME, url);
        assertThat(lines.getFirst().split(",")).isNotEmpty().allMatch(SbLocalhostResolutionTest::isLoopback);
        assertThat(lines.get(1)).isEqualTo(expectedBody());
    }

    @Test
    void pythonResolvesToLoopbackAndFetches() throws Exception {
        String script = "import socket, sys, urllib.request\n"
                + "print(','.join(sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 80, proto=socket.IPPROTO_TCP)})))\n"
                + "print(urllib.request.urlopen(sys.argv[2], timeout=10).read().decode())\n";
        List<String> lines = run("python3", "-c", script, NAME, url);
        assertThat(lines.getFirst().split(",")).isNotEmpty().allMatch(SbLocalhostResolutionTest::isLoopback);
        assertThat(lines.get(1)).isEqualTo(expectedBody());
    }

    @Test
    void curlResolvesToLoopbackAndFetches() throws Exception {
        List<String> lines = run("curl", "-sS", "--max-time", "10", "-w", "\\n%{remote_ip}\\n", url);
        assertThat(lines).containsExactly(expectedBody(), "127.0.0.1");
    }

    @Test
    void theSystemResolverAnswersTheName() throws Exception {
        // getent goes through nsswitch.conf only: this is what setup's libnss-myhostname provides.
        List<String> lines = run("getent", "ahostsv4", NAME);
        assertThat(lines).isNotEmpty().allMatch(line -> line.startsWith("127.0.0.1 "));
    }

    private static boolean isLoopback(String address) {
        return address.equals("::1") || address.startsWith("127.");
    }

    private static List<String> run(String... argv) throws Exception {
        return Command.of(argv).timeout(Duration.ofSeconds(60)).run().stdout().lines().toList();
    }
}
