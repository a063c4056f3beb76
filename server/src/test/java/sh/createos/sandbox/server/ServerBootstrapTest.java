package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A first start makes a bootstrap user whose key, written to credentials.env, works; later starts keep it. */
class ServerBootstrapTest {
    @TempDir
    Path dir;

    @Test
    void firstStartWritesWorkingCredentialsOnce() throws Exception {
        Path credentials = dir.resolve("credentials.env");
        try (ApiServer server = ApiServer.start(ServerConfig.of(dir, "127.0.0.1:0", null))) {
            String baseUrl = "http://127.0.0.1:" + server.port();
            assertThat(new Accounts(server.store()).bootstrapIfEmpty(credentials, baseUrl)).isTrue();
            List<String> lines = Files.readAllLines(credentials);
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).isEqualTo("CREATEOS_SANDBOX_BASE_URL=" + baseUrl);
            assertThat(lines.get(1)).matches("CREATEOS_SANDBOX_API_KEY=sk_[A-Za-z0-9_-]{43}");
            assertThat(dir.resolve("credentials.env.partial")).doesNotExist();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials)))
                    .isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("control.db"))))
                    .isEqualTo("rw-------");
            String key = lines.get(1).substring("CREATEOS_SANDBOX_API_KEY=".length());
            HttpResponse<String> whoami = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(baseUrl + "/v1/whoami")).header("X-Api-Key", key).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(whoami.statusCode()).isEqualTo(200);
            assertThat(server.store().users()).singleElement()
                    .satisfies(u -> assertThat(u.email()).isEqualTo(Accounts.BOOTSTRAP_EMAIL));
            // The key is stored only as its hash.
            assertThat(Files.readString(dir.resolve("control.db"), java.nio.charset.StandardCharsets.ISO_8859_1))
                    .doesNotContain(key);
        }
        String before = Files.readString(credentials);
        try (ApiServer again = ApiServer.start(ServerConfig.of(dir, "127.0.0.1:0", null))) {
            assertThat(new Accounts(again.store()).bootstrapIfEmpty(credentials, "http://x")).isFalse();
        }
        assertThat(Files.readString(credentials)).isEqualTo(before);
    }

    /**
     * What runs before traffic (the bootstrap in {@code serve}) is done before {@code /healthz} answers: CI once read
     * credentials.env right after {@code /healthz} answered and found none.
     */
    @Test
    void nothingIsServedUntilTheWorkBeforeTrafficIsDone() throws Exception {
        java.util.concurrent.CompletableFuture<Integer> bound = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CompletableFuture<ApiServer> started = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return ApiServer.start(ServerConfig.of(dir, "127.0.0.1:0", null), null, (store, port) -> {
                    bound.complete(port);
                    release.await();
                });
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        int port = bound.get(60, java.util.concurrent.TimeUnit.SECONDS);
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest healthz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                .timeout(java.time.Duration.ofMillis(700)).build();
        assertThatThrownBy(() -> http.send(healthz, HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.net.http.HttpTimeoutException.class);
        release.countDown();
        try (ApiServer server = started.get(60, java.util.concurrent.TimeUnit.SECONDS)) {
            assertThat(server.port()).isEqualTo(port);
            assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }
}
