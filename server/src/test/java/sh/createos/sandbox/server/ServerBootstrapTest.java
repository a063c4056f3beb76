package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

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
}
