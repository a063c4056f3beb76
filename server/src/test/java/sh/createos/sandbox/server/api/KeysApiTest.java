package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Accounts;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.auth.UserKeys;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/** {@code /v1/keys} (rest-api.md §5.7) against a real server and store; no VM is booted. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeysApiTest {
    @TempDir
    static Path dir;
    private TestApi api;
    private Accounts accounts;

    @BeforeAll
    void start() throws Exception {
        api = TestApi.start(dir, false);
        accounts = new Accounts(api.server.store());
    }

    @AfterAll
    void stop() {
        api.close();
    }

    /** A user of its own with one key, so the cases do not see each other's keys. */
    private String newUserKey(String email) {
        User user = accounts.createUser(email, 1);
        return accounts.createKey(user.id()).secret();
    }

    @Test
    void aCreatedKeyIsShownOnceWorksAndIsNeverReadableAgain() throws Exception {
        String first = newUserKey("once@example.com");
        Reply created = api.post("/v1/keys", first, map("name", "  laptop  "));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        JsonNode data = created.data();
        String secret = data.get("key").asText();
        assertThat(secret).startsWith("sk_").hasSizeGreaterThan(40);
        assertThat(data.get("id").asText()).startsWith("key_");
        assertThat(data.get("name").asText()).isEqualTo("laptop");
        assertThat(data.get("prefix").asText()).isEqualTo(secret.substring(0, 8));
        assertThat(api.get("/v1/whoami", secret).status()).isEqualTo(200);

        Reply listed = api.get("/v1/keys", secret);
        assertThat(listed.status()).isEqualTo(200);
        JsonNode keys = listed.data().get("data");
        assertThat(keys).hasSize(2);
        assertThat(listed.data().get("pagination").get("total").asInt()).isEqualTo(2);
        assertThat(listed.raw().body().length).isPositive();
        String body = new String(listed.raw().body());
        assertThat(body).doesNotContain(secret).doesNotContain(first).doesNotContain("hash");
        // Oldest first; "current" marks the key of the request, whichever header carried it.
        assertThat(keys.get(0).has("name")).isFalse();
        assertThat(keys.get(0).get("current").asBoolean()).isFalse();
        assertThat(keys.get(1).get("id").asText()).isEqualTo(data.get("id").asText());
        assertThat(keys.get(1).get("current").asBoolean()).isTrue();
        assertThat(keys.get(1).has("revoked_at")).isFalse();
        Reply bearer = api.send(api.request("/v1/keys").header("Authorization", "Bearer " + first).GET().build());
        assertThat(bearer.data().get("data").get(0).get("current").asBoolean()).isTrue();
        assertThat(api.get("/v1/keys?limit=1&offset=1", secret).data().get("data").get(0).get("id").asText())
                .isEqualTo(data.get("id").asText());
    }

    @Test
    void theBodyIsOptionalAndANameIsValidated() throws Exception {
        String key = newUserKey("names@example.com");
        Reply bare = api.send(TestApi.withKey(api.request("/v1/keys"), key)
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build());
        assertThat(bare.status()).as(bare.toString()).isEqualTo(200);
        assertThat(bare.data().has("name")).isFalse();
        assertThat(api.post("/v1/keys", key, "{}").status()).isEqualTo(200);
        assertThat(api.post("/v1/keys", key, map("name", "x".repeat(UserKeys.NAME_MAX + 1))).status()).isEqualTo(400);
        assertThat(api.post("/v1/keys", key, map("name", "a\nb")).status()).isEqualTo(400);
        assertThat(api.post("/v1/keys", key, map("name", 7)).status()).isEqualTo(400);
        assertThat(api.post("/v1/keys", key, "[]").status()).isEqualTo(400);
        Reply malformed = api.post("/v1/keys", key, "{");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().get("status").asText()).isEqualTo("fail");
        assertThat(api.get("/v1/keys", key).data().get("data")).hasSize(3); // the two good creates and the first
        assertThat(api.get("/v1/keys", null).status()).isEqualTo(401);
        assertThat(api.post("/v1/keys", "sk_wrong", "{}").status()).isEqualTo(401);
    }

    @Test
    void aRevokedKeyStopsAtOnceAndARetriedRevokeAnswersTheSame() throws Exception {
        String keeper = newUserKey("revoke@example.com");
        JsonNode spare = api.post("/v1/keys", keeper, map("name", "spare")).data();
        String spareId = spare.get("id").asText();
        Reply revoked = api.delete("/v1/keys/" + spareId, keeper);
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        assertThat(revoked.data().get("revoked_at").asText()).isNotEmpty();
        assertThat(revoked.data().get("current").asBoolean()).isFalse();
        Reply refused = api.get("/v1/whoami", spare.get("key").asText());
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.toString()).contains("revoked");
        Reply again = api.delete("/v1/keys/" + spareId, keeper);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.data().get("revoked_at").asText()).isEqualTo(revoked.data().get("revoked_at").asText());
        JsonNode listed = api.get("/v1/keys", keeper).data().get("data");
        assertThat(listed).hasSize(2);
        assertThat(listed.get(1).get("revoked_at").asText()).isEqualTo(revoked.data().get("revoked_at").asText());
    }

    @Test
    void theCallerMayRevokeTheKeyInUseButNeverTheLastActiveOne() throws Exception {
        String only = newUserKey("last@example.com");
        String onlyId = api.get("/v1/keys", only).data().get("data").get(0).get("id").asText();
        Reply refused = api.delete("/v1/keys/" + onlyId, only);
        assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
        assertThat(refused.data().get("code").asText()).isEqualTo("INVALID_STATE");
        assertThat(refused.data().get("message").asText()).contains("only active key");
        assertThat(api.get("/v1/whoami", only).status()).isEqualTo(200);

        String second = api.post("/v1/keys", only, map("name", "new")).data().get("key").asText();
        Reply self = api.delete("/v1/keys/" + onlyId, only);
        assertThat(self.status()).isEqualTo(200);
        assertThat(self.data().get("current").asBoolean()).isTrue();
        assertThat(api.get("/v1/whoami", only).status()).isEqualTo(401);
        String secondId = api.get("/v1/keys", second).data().get("data").get(1).get("id").asText();
        assertThat(api.delete("/v1/keys/" + secondId, second).status()).isEqualTo(409);
    }

    @Test
    void anotherUsersKeyIsNotFound() throws Exception {
        String bobKeyId = api.get("/v1/keys", api.bobKey).data().get("data").get(0).get("id").asText();
        Reply alice = api.delete("/v1/keys/" + bobKeyId, api.aliceKey);
        assertThat(alice.status()).isEqualTo(404);
        assertThat(alice.data().get("code").asText()).isEqualTo("NOT_FOUND");
        assertThat(api.delete("/v1/keys/key_missing", api.aliceKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/keys", api.aliceKey).toString()).doesNotContain(bobKeyId);
        assertThat(api.get("/v1/whoami", api.bobKey).status()).isEqualTo(200);
    }

    @Test
    void aDelegatedSandboxTokenCannotTouchKeys() throws Exception {
        SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), api.alice.id(), "keys-token", SandboxStatus.RUNNING,
                "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, "local", false, null, Map.of(), List.of(),
                List.of(), 10737418240L, null, Instant.now(), null, null, null, api.alice.email());
        api.server.store().insertSandbox(row);
        Reply token = api.post("/v1/sandboxes/" + row.id() + "/access-token", api.aliceKey, "");
        assertThat(token.status()).as(token.toString()).isEqualTo(200);
        String delegated = token.data().get("token").asText();
        assertThat(api.get("/v1/keys", delegated).status()).isEqualTo(403);
        assertThat(api.post("/v1/keys", delegated, "{}").status()).isEqualTo(403);
        String aliceKeyId = api.get("/v1/keys", api.aliceKey).data().get("data").get(0).get("id").asText();
        assertThat(api.delete("/v1/keys/" + aliceKeyId, delegated).status()).isEqualTo(403);
        api.server.store().updateSandbox(row.withStatus(SandboxStatus.DESTROYED), SandboxStatus.RUNNING);
    }

    @Test
    void activeKeysAreCappedPerUser() throws Exception {
        String key = newUserKey("many@example.com");
        List<String> ids = new ArrayList<>();
        for (int i = 1; i < UserKeys.ACTIVE_LIMIT; i++) {
            Reply r = api.post("/v1/keys", key, map("name", "k" + i));
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            ids.add(r.data().get("id").asText());
        }
        Reply over = api.post("/v1/keys", key, map("name", "one too many"));
        assertThat(over.status()).isEqualTo(409);
        assertThat(over.data().get("message").asText()).contains(String.valueOf(UserKeys.ACTIVE_LIMIT));
        assertThat(api.delete("/v1/keys/" + ids.get(0), key).status()).isEqualTo(200);
        assertThat(api.post("/v1/keys", key, map("name", "after a revoke")).status()).isEqualTo(200);
        assertThat(api.get("/v1/keys?limit=500", key).data().get("pagination").get("total").asInt())
                .isEqualTo(UserKeys.ACTIVE_LIMIT + 1);
    }
}
