package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.store.PostgresCluster;

/** The whole server on PostgreSQL ({@code --database-url}): migrations, bootstrap, an authenticated call. */
class PostgresServerTest {
    @TempDir
    Path dir;

    @Test
    void theServerRunsOnPostgres() throws Exception {
        String url = PostgresCluster.shared().newDatabase();
        try (ApiServer server = ApiServer.start(ServerConfig.of(dir, "127.0.0.1:0", url))) {
            String baseUrl = "http://127.0.0.1:" + server.port();
            Path credentials = dir.resolve("credentials.env");
            assertThat(new Accounts(server.store()).bootstrapIfEmpty(credentials, baseUrl)).isTrue();
            String key = Files.readAllLines(credentials).get(1).split("=", 2)[1];
            HttpResponse<String> list = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(baseUrl + "/v1/sandboxes?limit=10&offset=0")).header("X-Api-Key", key).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(list.statusCode()).isEqualTo(200);
            assertThat(list.body()).isEqualTo("{\"status\":\"success\",\"data\":{\"data\":[],"
                    + "\"pagination\":{\"total\":0,\"limit\":10,\"offset\":0,\"count\":0}}}");
        }
        assertThat(dir.resolve("control.db")).doesNotExist();
    }
}
