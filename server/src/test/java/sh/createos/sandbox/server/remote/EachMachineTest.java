package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.HttpHead;

/**
 * On each of the two namespaced machines ({@link TwoMachines}), through each replica: exec, a file up and down,
 * the ingress and a TCP tunnel reach the sandbox there, and {@code GET /v1/hosts} counts it on its machine while
 * it runs and not after.
 */
class EachMachineTest {
    /** Echoes every connection on 127.0.0.1:5005 until it half-closes; a client that leaves early ends only its own. */
    private static final String ECHO_SERVER = """
            import socket
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 5005))
            s.listen()
            while True:
                c, _ = s.accept()
                try:
                    while True:
                        d = c.recv(65536)
                        if not d:
                            break
                        c.sendall(d)
                except OSError:
                    pass
                c.close()
            """;
    private final ReplicaCalls calls = new ReplicaCalls();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void execFilesIngressAndTunnelsWorkOnEachMachineThroughEitherReplica() throws Exception {
        try (TwoMachines machines = TwoMachines.start(dir, "each-machine-logs")) {
            for (String hostId : List.of("h1", "h2")) {
                for (ReplicaProcess replica : List.of(machines.a, machines.b)) {
                    workOn(machines, replica, hostId);
                }
            }
        }
    }

    private void workOn(TwoMachines machines, ReplicaProcess replica, String hostId) throws Exception {
        String key = machines.key;
        String what = "on " + hostId + " through " + replica.url();
        ReplicaCalls.Reply created = calls.call("POST", replica.url() + "/v1/sandboxes", key,
                Map.of("shape", "s-1vcpu-256mb", "host_id", hostId, "ingress_enabled", true));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        String id = created.data().get("id").asText();
        String template = created.data().get("ingress_url_template").asText();
        awaitVmCount(replica, key, hostId, 1);

        // A server for the ingress and an echo server for the tunnel.
        assertThat(sh(replica, key, id, "mkdir -p /srv/www && echo 'hello from " + hostId + "' > /srv/www/index.html"
                + " && (nohup setsid python3 -m http.server 3000 --directory /srv/www >/tmp/www.log 2>&1 &)"
                + " && (nohup setsid python3 -c '" + ECHO_SERVER + "' >/tmp/echo.log 2>&1 &)"
                + " && for i in $(seq 50); do (echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null"
                + " && (echo >/dev/tcp/127.0.0.1/5005) 2>/dev/null && exit 0; sleep 0.2; done; exit 1")
                .get("exit_code").asInt()).as("servers started %s", what).isZero();

        byte[] content = new byte[512 * 1024];
        new Random(hostId.hashCode()).nextBytes(content);
        String file = replica.url() + "/v1/sandboxes/" + id + "/files?path=%2Froot%2Fdata.bin";
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(file)).header("X-Api-Key", key)
                .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(content))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as("upload %s: %s", what, put.body()).isEqualTo(200);
        assertThat(sh(replica, key, id, "stat -c %s /root/data.bin").get("stdout").asText().strip())
                .isEqualTo(String.valueOf(content.length));
        HttpResponse<byte[]> got = http.send(HttpRequest.newBuilder(URI.create(file)).header("X-Api-Key", key).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).as("download %s", what).isEqualTo(content);

        // The ingress: <ulid>-3000.sb.localhost:PORT, sent to the replica's ingress listener on loopback.
        URI preview = URI.create(template.replace("<port>", "3000"));
        try (Socket socket = new Socket("127.0.0.1", preview.getPort())) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(("GET /index.html HTTP/1.1\r\nHost: " + preview.getAuthority()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response.lines().findFirst().orElse("")).as("ingress %s: %s", what, response)
                    .matches("HTTP/1\\.[01] 200.*");
            assertThat(response).as("ingress %s", what).endsWith("hello from " + hostId + "\n");
        }

        // A TCP tunnel: 1 MiB each way through the echo server.
        try (Socket socket = new Socket("127.0.0.1", replica.port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/sandboxes/" + id + "/tunnel/5005 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + key
                    + "\r\nConnection: Upgrade\r\nUpgrade: tcp-tunnel\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            assertThat(HttpHead.read(in)).as("tunnel %s", what).startsWith("HTTP/1.1 101");
            byte[] sent = new byte[1024 * 1024];
            new Random(7).nextBytes(sent);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    out.write(sent);
                    out.flush();
                    socket.shutdownOutput();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] echoed = in.readAllBytes();
            writer.join();
            assertThat(echoed).as("tunnel echo %s", what).isEqualTo(sent);
        }

        ReplicaCalls.Reply destroyed = calls.call("DELETE", replica.url() + "/v1/sandboxes/" + id, key, null);
        assertThat(destroyed.status()).as(destroyed.toString()).isLessThan(300);
        awaitVmCount(replica, key, hostId, 0);
    }

    /** The count comes with the machine's heartbeat: it may lag the create or destroy by a beat. */
    private void awaitVmCount(ReplicaProcess replica, String key, String hostId, int expected) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (vmCount(replica, key, hostId) != expected) {
            assertThat(System.nanoTime()).as("%s counts %d VMs", hostId, expected).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    private JsonNode sh(ReplicaProcess replica, String key, String id, String script) throws Exception {
        ReplicaCalls.Reply exec = calls.call("POST", replica.url() + "/v1/sandboxes/" + id + "/exec", key,
                Map.of("cmd", "bash", "args", List.of("-c", script)));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
        return exec.data().get("result");
    }

    private int vmCount(ReplicaProcess replica, String key, String hostId) throws Exception {
        for (JsonNode host : calls.hosts(replica, key)) {
            if (host.get("id").asText().equals(hostId)) {
                return host.get("vm_count").asInt();
            }
        }
        throw new AssertionError("no host " + hostId);
    }
}
