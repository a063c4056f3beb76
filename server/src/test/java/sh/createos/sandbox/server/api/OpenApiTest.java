package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;

/** {@code GET /openapi.json} describes exactly the routes the server registers: none missing, none invented. */
class OpenApiTest {
    @TempDir
    Path dir;

    @Test
    void documentMatchesTheRegisteredRoutes() throws Exception {
        try (TestApi api = TestApi.start(dir, false)) {
            TestApi.Reply reply = api.get("/openapi.json", null);
            assertThat(reply.status()).isEqualTo(200);
            JsonNode doc = reply.json();
            assertThat(doc.get("openapi").asText()).isEqualTo("3.1.0");

            Set<String> documented = new TreeSet<>();
            for (Iterator<String> paths = doc.get("paths").fieldNames(); paths.hasNext(); ) {
                String path = paths.next();
                for (Iterator<String> methods = doc.get("paths").get(path).fieldNames(); methods.hasNext(); ) {
                    String method = methods.next().toUpperCase();
                    documented.add(method + " " + path);
                    JsonNode op = doc.get("paths").get(path).get(method.toLowerCase());
                    assertThat(op.has("summary")).as(method + " " + path + " has a summary").isTrue();
                    assertThat(op.get("responses").size()).as(method + " " + path + " has responses").isPositive();
                    boolean open = op.has("security") && op.get("security").isEmpty();
                    boolean authenticated = api.server.routes().stream().anyMatch(r -> r.method().equals(method)
                            && ("/" + String.join("/", r.pattern())).equals(path) && r.authenticated());
                    assertThat(open).as(method + " " + path + " security matches the route").isEqualTo(!authenticated);
                }
            }
            Set<String> registered = new TreeSet<>();
            api.server.routes().forEach(r -> registered.add(r.method() + " /" + String.join("/", r.pattern())));
            assertThat(documented).isEqualTo(registered);
        }
    }
}
