package sh.createos.sandbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.server.store.User;

/**
 * A real server on a random loopback port with its own data directory and SQLite database, two users with keys,
 * and a java.net.http client. {@code withKit} links the guest kit that {@code bin/createos-sandbox setup} built,
 * so sandboxes really boot.
 */
public final class TestApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    public final Path dataDir;
    public final ApiServer server;
    public final User alice;
    public final String aliceKey;
    public final User bob;
    public final String bobKey;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private TestApi(Path dataDir, ApiServer server, User alice, String aliceKey, User bob, String bobKey) {
        this.dataDir = dataDir;
        this.server = server;
        this.alice = alice;
        this.aliceKey = aliceKey;
        this.bob = bob;
        this.bobKey = bobKey;
    }

    public static TestApi start(Path dataDir, boolean withKit) throws Exception {
        return start(dataDir, withKit, UnaryOperator.identity());
    }

    /** With settings beyond the defaults, e.g. a shorter auto-pause minimum. */
    public static TestApi start(Path dataDir, boolean withKit, UnaryOperator<ServerConfig> settings)
            throws Exception {
        if (withKit) {
            linkKit(dataDir);
        }
        ApiServer server = ApiServer.start(settings.apply(ServerConfig.of(dataDir, "127.0.0.1:0", null)));
        Accounts accounts = new Accounts(server.store());
        User alice = accounts.createUser("alice@example.com", 3);
        User bob = accounts.createUser("bob@example.com", 3);
        return new TestApi(dataDir, server, alice, accounts.createKey(alice.id()).secret(), bob,
                accounts.createKey(bob.id()).secret());
    }

    /** A control plane (no kit of its own) over the given machines, e.g. host daemons. */
    public static TestApi startOver(Path dataDir, java.util.function.Function<sh.createos.sandbox.server.store.Store,
            sh.createos.sandbox.server.host.Host> hosts) throws Exception {
        ApiServer server = ApiServer.start(ServerConfig.of(dataDir, "127.0.0.1:0", null), hosts);
        Accounts accounts = new Accounts(server.store());
        User alice = accounts.createUser("alice@example.com", 3);
        User bob = accounts.createUser("bob@example.com", 3);
        return new TestApi(dataDir, server, alice, accounts.createKey(alice.id()).secret(), bob,
                accounts.createKey(bob.id()).secret());
    }

    /** Restarts the server on the same data directory, as a new process would. */
    public TestApi restart() throws Exception {
        server.close();
        ApiServer again = ApiServer.start(ServerConfig.of(dataDir, "127.0.0.1:0", null));
        return new TestApi(dataDir, again, alice, aliceKey, bob, bobKey);
    }

    public static void linkKit(Path dataDir) throws IOException {
        Path shared = DataDir.fromEnvironment();
        try {
            GuestKit.load(shared);
        } catch (IOException e) {
            throw new AssertionError("the sandbox tests boot real VMs and need the guest kit: run "
                    + "`bin/createos-sandbox setup` first (" + e.getMessage() + ")", e);
        }
        Files.createDirectories(dataDir);
        Files.createSymbolicLink(dataDir.resolve("kit"), shared.resolve("kit"));
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.port() + pathAndQuery);
    }

    public HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(90));
    }

    /** A response with its body parsed as JSON (null when the body is empty). */
    public record Reply(int status, HttpResponse<byte[]> raw, JsonNode json) {
        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        public JsonNode data() {
            return json.get("data");
        }

        @Override
        public String toString() {
            return status + " " + new String(raw.body());
        }
    }

    public Reply send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        byte[] body = response.body();
        JsonNode json = null;
        if (body.length > 0 && response.headers().firstValue("Content-Type").orElse("").contains("json")) {
            json = JSON.readTree(body);
        }
        return new Reply(response.statusCode(), response, json);
    }

    public Reply get(String path, String key) throws IOException, InterruptedException {
        return send(withKey(request(path), key).GET().build());
    }

    public Reply delete(String path, String key) throws IOException, InterruptedException {
        return send(withKey(request(path), key).DELETE().build());
    }

    public Reply post(String path, String key, Object body) throws IOException, InterruptedException {
        return send(json(withKey(request(path), key), "POST", body));
    }

    public Reply patch(String path, String key, Object body) throws IOException, InterruptedException {
        return send(json(withKey(request(path), key), "PATCH", body));
    }

    public HttpClient client() {
        return http;
    }

    public static HttpRequest.Builder withKey(HttpRequest.Builder builder, String key) {
        return key == null ? builder : builder.header("X-Api-Key", key);
    }

    private static HttpRequest json(HttpRequest.Builder builder, String method, Object body) throws IOException {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        return builder.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(text)).build();
    }

    public static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    /** Destroys every sandbox the two users still have, so no VM outlives the test, then stops the server. */
    @Override
    public void close() {
        try {
            for (String key : new String[] {aliceKey, bobKey}) {
                for (JsonNode s : get("/v1/sandboxes?limit=500", key).data().get("data")) {
                    delete("/v1/sandboxes/" + s.get("id").asText(), key);
                }
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cleaning up the test's sandboxes failed", e);
        } finally {
            server.close(); // waits for the background reclaims
        }
    }
}
