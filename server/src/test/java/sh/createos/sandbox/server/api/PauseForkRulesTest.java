package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.ApiWithoutVms;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * The state rules and error statuses of pause, resume and fork (spec §6.7-§6.9, §14.1), on rows written through
 * the real store of a server without a guest kit: nothing here needs a VM, so every refusal must happen before the
 * engine is asked. {@code SnapshotApiTest} covers the successful paths on real VMs.
 */
class PauseForkRulesTest extends ApiWithoutVms {
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    @Test
    void unknownAndOtherUsersSandboxesAre404() throws Exception {
        String bobs = "/v1/sandboxes/" + insert(api.bob, "bobs", SandboxStatus.PAUSED).id();
        for (String base : List.of("/v1/sandboxes/sb_01J0000000000000000000000", bobs)) {
            assertThat(api.post(base + "/pause", api.aliceKey, "{}").status()).isEqualTo(404);
            assertThat(api.post(base + "/resume", api.aliceKey, "{}").status()).isEqualTo(404);
            Reply fork = api.post(base + "/fork", api.aliceKey, "{}");
            assertThat(fork.status()).isEqualTo(404);
            assertThat(fork.data().get("code").asText()).isEqualTo("NOT_FOUND");
        }
        assertThat(api.get(bobs, api.bobKey).data().get("status").asText()).isEqualTo("paused");
    }

    @Test
    void eachOperationIs409InTheWrongStateWithAMessageThatSaysWhy() throws Exception {
        String paused = "/v1/sandboxes/" + insert(api.alice, "wrong-paused", SandboxStatus.PAUSED).id();
        Reply pause = api.post(paused + "/pause", api.aliceKey, "{}");
        assertThat(pause.status()).isEqualTo(409);
        assertThat(pause.data().get("code").asText()).isEqualTo("INVALID_STATE");
        assertThat(pause.data().get("message").asText()).contains("only a running sandbox can be paused")
                .contains("is paused");

        for (SandboxStatus status : List.of(SandboxStatus.PAUSING, SandboxStatus.RESUMING, SandboxStatus.FORKING,
                SandboxStatus.ERROR, SandboxStatus.FAILED, SandboxStatus.DESTROYED)) {
            String base = "/v1/sandboxes/" + insert(api.alice, "wrong-" + status.wire(), status).id();
            Reply resume = api.post(base + "/resume", api.aliceKey, "{}");
            assertThat(resume.status()).as(status + ": " + resume).isEqualTo(409);
            assertThat(resume.data().get("message").asText()).contains("only a paused sandbox can be resumed")
                    .contains("is " + status.wire());
            Reply fork = api.post(base + "/fork", api.aliceKey, "{}");
            assertThat(fork.status()).as(status + ": " + fork).isEqualTo(409);
            assertThat(fork.data().get("message").asText()).contains("only a paused sandbox can be forked");
            assertThat(api.post(base + "/pause", api.aliceKey, "{}").status()).isEqualTo(409);
            assertThat(api.get(base, api.aliceKey).data().get("status").asText()).isEqualTo(status.wire());
        }
        String running = "/v1/sandboxes/" + insert(api.alice, "wrong-running", SandboxStatus.RUNNING).id();
        assertThat(api.post(running + "/resume", api.aliceKey, "{}").status()).isEqualTo(409);
        assertThat(api.post(running + "/fork", api.aliceKey, "{}").status()).isEqualTo(409);
        assertThat(childrenOf(running)).isZero();
    }

    @Test
    void aPausedSandboxAllowsOnlyReadsResumeForkAndDestroy() throws Exception {
        SandboxRecord row = insert(api.alice, "only-reads", SandboxStatus.PAUSED);
        String base = "/v1/sandboxes/" + row.id();
        List<Reply> refused = List.of(
                api.post(base + "/exec", api.aliceKey, map("cmd", "true")),
                api.post(base + "/exec?stream=true", api.aliceKey, map("cmd", "true")),
                api.send(TestApi.withKey(api.request(base + "/files?path=%2Ftmp%2Fx"), api.aliceKey)
                        .PUT(HttpRequest.BodyPublishers.ofString("data")).build()),
                api.get(base + "/files?path=%2Ftmp%2Fx", api.aliceKey),
                api.post(base + "/resize", api.aliceKey, map("disk_mib", 20480)),
                api.patch(base, api.aliceKey, map("auto_pause_after_seconds", 300)),
                api.patch(base, api.aliceKey, map("ingress_enabled", true)),
                api.post(base + "/ssh-pubkeys", api.aliceKey, map("keys", List.of(KEY))),
                api.send(TestApi.withKey(api.request(base + "/egress"), api.aliceKey)
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"egress\":[]}")).build()));
        for (Reply reply : refused) {
            assertThat(reply.status()).as(reply.toString()).isEqualTo(409);
            assertThat(reply.data().get("message").asText()).as(reply.toString()).contains("paused");
        }
        JsonNode view = api.get(base, api.aliceKey).data();
        assertThat(view.get("status").asText()).isEqualTo("paused");
        assertThat(view.get("paused_at").asText()).isEqualTo(row.pausedAt().toString());
        assertThat(view.has("auto_pause_after_seconds")).isFalse();
        assertThat(api.get("/v1/sandboxes?status=paused", api.aliceKey).data().get("data").findValuesAsText("id"))
                .contains(row.id());
        assertThat(api.get("/v1/whoami", api.aliceKey).data().get("stats").get("paused").asInt()).isPositive();

        Reply delete = api.delete(base, api.aliceKey);
        assertThat(delete.data().toString()).isEqualTo("{\"id\":\"" + row.id() + "\",\"status\":\"destroying\"}");
        String status = "destroying";
        for (int i = 0; i < 100 && !status.equals("destroyed"); i++) {
            Thread.sleep(100);
            status = api.get(base, api.aliceKey).data().get("status").asText();
        }
        assertThat(status).isEqualTo("destroyed");
    }

    @Test
    void aDeleteDuringATransitionIsAcceptedAndLeftToTheRequestThatActs() throws Exception {
        for (SandboxStatus status : List.of(SandboxStatus.PAUSING, SandboxStatus.RESUMING, SandboxStatus.FORKING)) {
            String base = "/v1/sandboxes/" + insert(api.alice, "mid-" + status.wire(), status).id();
            assertThat(api.get(base, api.aliceKey).data().get("status").asText()).isEqualTo(status.wire());
            assertThat(api.delete(base, api.aliceKey).data().get("status").asText()).isEqualTo("destroying");
            assertThat(api.get(base, api.aliceKey).data().has("destroyed_at")).isTrue();
        }
    }

    @Test
    void aBadForkBodyIs400AndCreatesNothing() throws Exception {
        String base = "/v1/sandboxes/" + insert(api.alice, "fork-source", SandboxStatus.PAUSED).id();
        for (String body : List.of("", "[]", "{\"start_paused\":\"yes\"}", "{\"envs\":{\"1BAD\":\"x\"}}",
                "{\"envs\":[\"A=B\"]}", "{\"ssh_pubkeys\":[\"not a key\"]}", "{\"bandwidth_quota_bytes\":-2}",
                "{\"ingress_enabled\":1}", "{\"start_paused\":true")) {
            Reply reply = api.post(base + "/fork", api.aliceKey, body);
            assertThat(reply.status()).as(body + " -> " + reply).isEqualTo(400);
            assertThat(reply.json().get("status").asText()).isEqualTo("fail");
        }
        assertThat(childrenOf(base)).isZero();
        assertThat(api.get(base, api.aliceKey).data().get("status").asText()).isEqualTo("paused");
    }

    /** How many of alice's sandboxes, in any state, name this one as their fork source. */
    private long childrenOf(String base) throws Exception {
        String id = base.substring(base.lastIndexOf('/') + 1);
        long count = 0;
        for (SandboxStatus status : SandboxStatus.values()) {
            for (JsonNode s : api.get("/v1/sandboxes?limit=500&status=" + status.wire(), api.aliceKey).data()
                    .get("data")) {
                count += s.has("forked_from") && s.get("forked_from").asText().equals(id) ? 1 : 0;
            }
        }
        return count;
    }

    private SandboxRecord insert(User owner, String name, SandboxStatus status) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), owner.id(), name, status, "s-1vcpu-256mb",
                "devbox:1", 1, 256, 10240, null, "local", false, null, Map.of(), List.of(), List.of(), 10737418240L,
                null, now, null, null, null, owner.email(), null, status == SandboxStatus.PAUSED ? now : null, null);
        api.server.store().insertSandbox(row);
        return row;
    }
}
