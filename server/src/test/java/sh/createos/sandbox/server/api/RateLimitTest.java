package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/** Issue 18: one tenant could send requests without bound; now a per-user bucket answers 429 with Retry-After. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimitTest {
    @TempDir
    static Path dir;
    private TestApi api;

    @BeforeAll
    void startWithATinyLimit() throws Exception {
        System.setProperty("createos.sandbox.rateLimit", "1,3");
        try {
            api = TestApi.start(dir, false);
        } finally {
            System.clearProperty("createos.sandbox.rateLimit");
        }
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (api != null) {
            Thread.sleep(3_100); // the bucket refills its burst of 3, so the cleanup's own calls are not limited
            api.close();
        }
    }

    @Test
    void aUserPastTheBurstGets429WithRetryAfterAndOtherUsersAreUntouched() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertThat(api.get("/v1/whoami", api.aliceKey).status()).isEqualTo(200);
        }
        Reply limited = api.get("/v1/whoami", api.aliceKey);
        assertThat(limited.status()).as(limited.toString()).isEqualTo(429);
        assertThat(limited.json().get("data").get("code").asText()).isEqualTo("RATE_LIMITED");
        assertThat(limited.header("Retry-After")).isEqualTo("1");
        assertThat(api.get("/v1/whoami", api.bobKey).status()).isEqualTo(200);
        assertThat(api.get("/healthz", null).status()).as("unauthenticated probes are not a user's").isNotEqualTo(429);
        Thread.sleep(Long.parseLong(limited.header("Retry-After")) * 1000 + 100);
        assertThat(api.get("/v1/whoami", api.aliceKey).status()).isEqualTo(200);
    }
}
