package sh.createos.sandbox.server.network;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.time.Instant;
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
 * Networks, egress and bandwidth through the API without a VM (no guest kit, no host network): shapes, ownership,
 * states and every validation error; rows written through the real store stand in for sandboxes.
 */
class NetworkApiWithoutVmsTest extends ApiWithoutVms {

    @Test
    void networksAreCreatedListedReadAndDeletedByTheirOwnerOnly() throws Exception {
        Reply created = api.post("/v1/networks", api.aliceKey, map("name", "team-net"));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        JsonNode net = created.data();
        String id = net.get("id").asText();
        assertThat(id).matches("net_[0-9A-Z]{26}");
        assertThat(net.get("name").asText()).isEqualTo("team-net");
        assertThat(Instant.parse(net.get("created_at").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(net.get("member_count").asInt()).isZero();

        Reply taken = api.post("/v1/networks", api.aliceKey, map("name", "team-net"));
        assertThat(taken.status()).isEqualTo(409);
        assertThat(api.post("/v1/networks", api.bobKey, map("name", "team-net")).status()).isEqualTo(200);
        for (Object bad : new Object[] {"", "Team Net", "-edge", "x".repeat(64), 7}) {
            assertThat(api.post("/v1/networks", api.aliceKey, map("name", bad)).status()).as("name %s", bad)
                    .isEqualTo(400);
        }
        assertThat(api.post("/v1/networks", api.aliceKey, map()).status()).isEqualTo(400);

        JsonNode list = api.get("/v1/networks?limit=500&offset=0", api.aliceKey).data();
        assertThat(list.get("pagination").get("total").asInt()).isEqualTo(1);
        assertThat(list.get("data").get(0).get("member_count").asInt()).isZero();
        assertThat(list.get("data").get(0).has("members")).isFalse();

        JsonNode detail = api.get("/v1/networks/" + id, api.aliceKey).data();
        assertThat(detail.get("members").isArray()).isTrue();
        assertThat(detail.get("members")).isEmpty();
        assertThat(detail.has("member_count")).isFalse();
        assertThat(api.get("/v1/networks/" + id, api.bobKey).status()).isEqualTo(404);
        assertThat(api.delete("/v1/networks/" + id, api.bobKey).status()).isEqualTo(404);

        Reply deleted = api.delete("/v1/networks/" + id, api.aliceKey);
        assertThat(deleted.json().toString()).isEqualTo("{\"status\":\"success\",\"data\":{\"ok\":true}}");
        assertThat(api.delete("/v1/networks/" + id, api.aliceKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/networks/" + id, api.aliceKey).status()).isEqualTo(404);
    }

    @Test
    void aNetworkWithALiveMemberCannotBeDeletedButDestroyedMembersLeaveOnTheirOwn() throws Exception {
        String id = api.post("/v1/networks", api.aliceKey, map("name", "busy-net")).data().get("id").asText();
        SandboxRecord live = insert(api.alice, "member-live", SandboxStatus.RUNNING);
        SandboxRecord gone = insert(api.alice, "member-gone", SandboxStatus.DESTROYED);
        api.server.store().insertMember(id, live.id(), Instant.now());
        api.server.store().insertMember(id, gone.id(), Instant.now());
        api.server.store().setMemberIp(id, live.id(), "10.201.0.2");

        JsonNode members = api.get("/v1/networks/" + id, api.aliceKey).data().get("members");
        assertThat(members.toString()).isEqualTo("[{\"sandbox_id\":\"" + live.id()
                + "\",\"status\":\"attached\",\"ip\":\"10.201.0.2\",\"name\":\"member-live\"}]");
        assertThat(api.get("/v1/networks?limit=500", api.aliceKey).data().get("data").get(0).get("member_count")
                .asInt()).isEqualTo(1);
        Reply inUse = api.delete("/v1/networks/" + id, api.aliceKey);
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.data().get("code").asText()).isEqualTo("NETWORK_IN_USE");

        api.server.store().updateSandbox(live.withStatus(SandboxStatus.DESTROYED), SandboxStatus.RUNNING);
        assertThat(api.delete("/v1/networks/" + id, api.aliceKey).status()).isEqualTo(200);
    }

    @Test
    void attachAndDetachNeedTheCallersRunningSandboxAndNetwork() throws Exception {
        String net = api.post("/v1/networks", api.aliceKey, map("name", "attach-net")).data().get("id").asText();
        SandboxRecord paused = insert(api.alice, "paused-one", SandboxStatus.PAUSED);
        assertThat(api.post("/v1/sandboxes/sb_nope/networks", api.aliceKey, map("id", net)).status())
                .isEqualTo(404);
        assertThat(api.post("/v1/sandboxes/" + paused.id() + "/networks", api.bobKey, map("id", net)).status())
                .isEqualTo(404);
        assertThat(api.post("/v1/sandboxes/" + paused.id() + "/networks", api.aliceKey, map("id", net)).status())
                .isEqualTo(409);
        assertThat(api.post("/v1/sandboxes/" + paused.id() + "/networks", api.aliceKey, map()).status())
                .isEqualTo(400);
        assertThat(api.delete("/v1/sandboxes/" + paused.id() + "/networks/" + net, api.bobKey).status())
                .isEqualTo(404);
    }

    @Test
    void createChecksNetworkReferencesAndEveryEgressRuleForm() throws Exception {
        Reply unknownNet = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                "networks", List.of(map("id", "net_missing"))));
        assertThat(unknownNet.status()).isEqualTo(400);
        assertThat(unknownNet.data().get("message").asText()).contains("net_missing");
        String bobsNet = api.post("/v1/networks", api.bobKey, map("name", "bobs")).data().get("id").asText();
        assertThat(api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                "networks", List.of(map("id", bobsNet)))).status()).isEqualTo(400);

        for (String bad : new String[] {"", " ", "http://example.com", "1.2.3.4/33", "example.com:0",
                "example.com:70000", "*.", "exa mple.com", "fe80::1", "10.0.0.1:x"}) {
            Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                    "egress", List.of("api.openai.com:443", bad)));
            assertThat(reply.status()).as("egress rule '%s': %s", bad, reply).isEqualTo(400);
        }
        // Every well-formed rule is accepted: the request gets past validation to the missing guest kit (bob: alice's
        // other tests hold her sandbox limit).
        Reply valid = api.post("/v1/sandboxes", api.bobKey, map("shape", "s-1vcpu-256mb", "egress",
                List.of("api.anthropic.com", "api.openai.com:443", "*.npmjs.org", "1.2.3.4", "10.0.0.0/8",
                        "192.168.1.0/24:5432")));
        assertThat(valid.status()).as(valid.toString()).isEqualTo(503);
    }

    @Test
    void egressIsReadAnywhereAndReplacedOnlyOnARunningSandbox() throws Exception {
        SandboxRecord running = insert(api.alice, "egress-one", SandboxStatus.RUNNING);
        String base = "/v1/sandboxes/" + running.id() + "/egress";
        assertThat(api.get(base, api.aliceKey).json().toString()).isEqualTo(
                "{\"status\":\"success\",\"data\":{\"id\":\"" + running.id() + "\",\"egress\":[]}}");
        assertThat(api.get(base, api.bobKey).status()).isEqualTo(404);

        Reply set = put(base, api.aliceKey, "{\"egress\":[\"registry.npmjs.org:443\",\" 1.1.1.1 \"]}");
        assertThat(set.data().get("egress").toString()).isEqualTo("[\"registry.npmjs.org:443\",\"1.1.1.1\"]");
        assertThat(api.get(base, api.aliceKey).data().get("egress").toString())
                .isEqualTo("[\"registry.npmjs.org:443\",\"1.1.1.1\"]");
        assertThat(put(base, api.aliceKey, "{\"egress\":[\"bad rule\"]}").status()).isEqualTo(400);
        assertThat(api.get(base, api.aliceKey).data().get("egress")).hasSize(2);
        assertThat(put(base, api.bobKey, "{\"egress\":[]}").status()).isEqualTo(404);
        for (String open : new String[] {"{\"egress\":[]}", "{\"egress\":null}", "{}", "{\"egress\":[\"*\"]}"}) {
            put(base, api.aliceKey, "{\"egress\":[\"1.1.1.1\"]}");
            Reply opened = put(base, api.aliceKey, open);
            assertThat(opened.data().get("egress").toString()).as(open).isEqualTo("[]");
        }
        SandboxRecord paused = insert(api.alice, "egress-paused", SandboxStatus.PAUSED);
        assertThat(put("/v1/sandboxes/" + paused.id() + "/egress", api.aliceKey, "{\"egress\":[]}").status())
                .isEqualTo(409);
    }

    @Test
    void bandwidthShowsTheQuotaAndRechargeAddsExactly() throws Exception {
        SandboxRecord running = insert(api.alice, "bw-one", SandboxStatus.RUNNING);
        String base = "/v1/sandboxes/" + running.id() + "/bandwidth";
        assertThat(api.get(base, api.aliceKey).json().toString()).isEqualTo("{\"status\":\"success\",\"data\":"
                + "{\"id\":\"" + running.id() + "\",\"quota_bytes\":10737418240,\"used_bytes\":0,\"ingress_bytes\":0,"
                + "\"remaining_bytes\":10737418240,\"capped\":false}}");
        JsonNode recharged = api.post(base + "/recharge", api.aliceKey, map("add_bytes", 5368709120L)).data();
        assertThat(recharged.get("quota_bytes").asLong()).isEqualTo(16106127360L);
        assertThat(recharged.get("remaining_bytes").asLong()).isEqualTo(16106127360L);
        assertThat(api.get(base, api.aliceKey).data().get("quota_bytes").asLong()).isEqualTo(16106127360L);
        // Not owned → 404 comes before judging the body.
        assertThat(api.post(base + "/recharge", api.bobKey, map("add_bytes", -1)).status()).isEqualTo(404);
        for (Object bad : new Object[] {0, -5, "10", 1.5}) {
            assertThat(api.post(base + "/recharge", api.aliceKey, map("add_bytes", bad)).status()).as("%s", bad)
                    .isEqualTo(400);
        }
        assertThat(api.post(base + "/recharge", api.aliceKey, map()).status()).isEqualTo(400);
        assertThat(api.get(base, api.bobKey).status()).isEqualTo(404);
        SandboxRecord paused = insert(api.alice, "bw-paused", SandboxStatus.PAUSED);
        Reply refused = api.post("/v1/sandboxes/" + paused.id() + "/bandwidth/recharge", api.aliceKey,
                map("add_bytes", 1024));
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.toString()).contains("resume it first");
        assertThat(api.get("/v1/sandboxes/" + paused.id() + "/bandwidth", api.aliceKey).data().get("quota_bytes")
                .asLong()).isEqualTo(10737418240L);
    }

    private Reply put(String path, String key, String json) throws Exception {
        return api.send(TestApi.withKey(api.request(path), key).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private SandboxRecord insert(User owner, String name, SandboxStatus status) {
        SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), owner.id(), name, status, "s-1vcpu-256mb",
                "devbox:1", 1, 256, 10240, null, "local", false, null, Map.of(), List.of(), List.of(), 10737418240L,
                null, Instant.now(), null, null, null, owner.email());
        api.server.store().insertSandbox(row);
        return row;
    }
}
