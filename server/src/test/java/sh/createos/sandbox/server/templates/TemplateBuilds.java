package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import sh.createos.sandbox.server.TestApi;

/** What the template tests share: waiting for a build to end, and reading a plain-text log. */
final class TemplateBuilds {
    /** Ample for a cold build of a few steps under emulation on a loaded machine. */
    static final Duration BUILD_BUDGET = Duration.ofMinutes(10);

    private TemplateBuilds() {}

    /** Alice's template {@code id} once it is {@code ready} or {@code failed}; fails with its log after the budget. */
    static JsonNode awaitFinal(TestApi api, String id) throws Exception {
        long deadline = System.nanoTime() + BUILD_BUDGET.toNanos();
        while (true) {
            JsonNode t = api.get("/v1/templates/" + id, api.aliceKey).data();
            String status = t.get("status").asText();
            if (status.equals("ready") || status.equals("failed")) {
                return t;
            }
            assertThat(System.nanoTime()).as("template %s still %s; log:\n%s", id, status,
                    text(api, "/v1/templates/" + id + "/logs")).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /** A 200 {@code text/plain} answer's body, as Alice. */
    static String text(TestApi api, String path) throws Exception {
        HttpResponse<String> reply = api.client().send(TestApi.withKey(api.request(path), api.aliceKey).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(reply.statusCode()).as(path + ": " + reply.body()).isEqualTo(200);
        assertThat(reply.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        return reply.body();
    }
}
