package sh.createos.sandbox.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;

/**
 * Idempotency-Key on a keyed POST without VMs (network create): replay, mismatch, per-user scope, "not processed"
 * answers not stored, concurrent repeats, and keys surviving a restart (they live in the database).
 */
class IdempotencyTest {
    @TempDir
    static Path dir;
    static TestApi api;

    @BeforeAll
    static void start() throws Exception {
        api = TestApi.start(dir, false);
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static TestApi.Reply post(String path, String key, String idemKey, String body) throws Exception {
        HttpRequest.Builder b = TestApi.withKey(api.request(path), key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (idemKey != null) {
            b.header("Idempotency-Key", idemKey);
        }
        return api.send(b.build());
    }

    private static int networksNamed(String name) throws Exception {
        int n = 0;
        for (var net : api.get("/v1/networks?limit=500", api.aliceKey).data().get("data")) {
            n += net.get("name").asText().equals(name) ? 1 : 0;
        }
        return n;
    }

    @Test
    void aRepeatReplaysTheFirstAnswerAndCreatesNothing() throws Exception {
        TestApi.Reply first = post("/v1/networks", api.aliceKey, "key-replay", "{\"name\":\"idem-a\"}");
        assertThat(first.status()).isEqualTo(200);
        TestApi.Reply again = post("/v1/networks", api.aliceKey, "key-replay", "{\"name\":\"idem-a\"}");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.data().get("id").asText()).isEqualTo(first.data().get("id").asText());
        assertThat(networksNamed("idem-a")).isEqualTo(1);
        // without a key the same body really runs again: the name is taken
        assertThat(post("/v1/networks", api.aliceKey, null, "{\"name\":\"idem-a\"}").status()).isEqualTo(409);
    }

    @Test
    void aRepeatWithAnotherBodyIs422() throws Exception {
        assertThat(post("/v1/networks", api.aliceKey, "key-mismatch", "{\"name\":\"idem-b\"}").status())
                .isEqualTo(200);
        TestApi.Reply other = post("/v1/networks", api.aliceKey, "key-mismatch", "{\"name\":\"idem-c\"}");
        assertThat(other.status()).isEqualTo(422);
        assertThat(other.data().get("code").asText()).isEqualTo("IDEMPOTENCY_MISMATCH");
        assertThat(networksNamed("idem-c")).isZero();
    }

    @Test
    void keysArePerUser() throws Exception {
        TestApi.Reply alice = post("/v1/networks", api.aliceKey, "key-shared", "{\"name\":\"idem-d\"}");
        TestApi.Reply bob = post("/v1/networks", api.bobKey, "key-shared", "{\"name\":\"idem-d\"}");
        assertThat(bob.status()).isEqualTo(200);
        assertThat(bob.header("Idempotent-Replayed")).isNull();
        assertThat(bob.data().get("id").asText()).isNotEqualTo(alice.data().get("id").asText());
    }

    @Test
    void errorsAreReplayedButNotProcessedAnswersAreNot() throws Exception {
        // 4xx is an answer: replayed
        TestApi.Reply bad = post("/v1/networks", api.aliceKey, "key-bad", "{\"name\":\"\"}");
        assertThat(bad.status()).isBetween(400, 499);
        TestApi.Reply badAgain = post("/v1/networks", api.aliceKey, "key-bad", "{\"name\":\"\"}");
        assertThat(badAgain.status()).isEqualTo(bad.status());
        assertThat(badAgain.header("Idempotent-Replayed")).isEqualTo("true");
        // 503 (no host with capacity: this server has no guest kit) means nothing was done: not stored, so another
        // body under the key is no mismatch
        assertThat(post("/v1/sandboxes", api.aliceKey, "key-503", "{\"shape\":\"s-1vcpu-256mb\"}").status())
                .isEqualTo(503);
        TestApi.Reply retried = post("/v1/sandboxes", api.aliceKey, "key-503", "{\"shape\":\"s-1vcpu-512mb\"}");
        assertThat(retried.status()).isEqualTo(503);
        assertThat(retried.header("Idempotent-Replayed")).isNull();
    }

    @Test
    void concurrentRepeatsCreateOne() throws Exception {
        List<Callable<TestApi.Reply>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(() -> post("/v1/networks", api.aliceKey, "key-race", "{\"name\":\"idem-race\"}"));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<String> ids = new ArrayList<>();
            for (Future<TestApi.Reply> f : pool.invokeAll(calls)) {
                TestApi.Reply r = f.get();
                assertThat(r.status()).as(r.toString()).isEqualTo(200);
                ids.add(r.data().get("id").asText());
            }
            assertThat(ids).containsOnly(ids.get(0));
        } finally {
            pool.shutdownNow();
        }
        assertThat(networksNamed("idem-race")).isEqualTo(1);
    }

    @Test
    void badKeysAre400() throws Exception {
        TestApi.Reply r = post("/v1/networks", api.aliceKey, "x".repeat(256), "{\"name\":\"idem-e\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.data().get("code").asText()).isEqualTo("VALIDATION");
    }
}
