package sh.createos.sandbox.server.network;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.host.net.Ipv4Cidr;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.ServerConfig;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/**
 * Issue 5's networking through the API, with real VMs, the host's real data path (own nft instance and pools) and
 * a fake outside world in a network namespace ({@link ExternalHost}: {@code allowed.test} and {@code other.test}).
 * Two sandboxes (never more VMs at once): {@code node-a} (allowlist {@code allowed.test:80}, on the network from
 * create, serving HTTP on 8000) and {@code node-b} (open egress, attached live, later detached).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkingApiTest {
    @TempDir
    static Path dir;
    private ExternalHost outside;
    private NetworkConfig network;
    private TestApi api;
    private String net;
    private String a;
    private String b;
    private JsonNode aView;

    @BeforeAll
    void start() throws Exception {
        int r = ThreadLocalRandom.current().nextInt(16);
        outside = ExternalHost.start(Map.of("allowed.test", "198.18." + (200 + r) + ".2",
                "other.test", "198.18." + (200 + r) + ".3"), 200 + r);
        network = TestNetworks.config(dir, List.of(new InetSocketAddress(outside.address(2), 53)));
        // The API on every interface: the sandboxes must still not reach it.
        api = TestApi.start(dir, true, c -> new ServerConfig(c.dataDir(), "0.0.0.0", 0, c.databaseUrl(),
                c.autoPauseMinSeconds(), c.ingress(), network));
        net = api.post("/v1/networks", api.aliceKey, map("name", "team-net")).data().get("id").asText();
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "node-a",
                "egress", List.of("allowed.test:80"), "networks", List.of(map("id", net))));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        aView = created.data();
        a = aView.get("id").asText();
        Reply second = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "node-b"));
        assertThat(second.status()).as(second.toString()).isEqualTo(200);
        b = second.data().get("id").asText();
        assertThat(sh(a, "nohup setsid python3 -m http.server 8000 --bind 0.0.0.0 >/tmp/http.log 2>&1 &"
                + " for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8000/ && exit 0; sleep 0.2; done;"
                + " exit 1").get("exit_code").asInt()).isZero();
    }

    /** The server leaves its network's kernel objects for a next start; this instance has none, so they go. */
    @AfterAll
    void stop() throws Exception {
        try {
            if (api != null) {
                api.close();
                TestNetworks.destroy(network);
            }
        } finally {
            if (outside != null) {
                outside.close();
            }
        }
    }

    @Test
    @Order(1)
    void aSandboxHasItsLeasedAddressAndIsFoundByIt() throws Exception {
        String ip = aView.get("ip").asText();
        assertThat(network.sandboxPool().contains(Ipv4Cidr.parseAddress(ip))).as(ip).isTrue();
        assertThat(aView.get("egress").toString()).isEqualTo("[\"allowed.test:80\"]");
        assertThat(sh(a, "ip -4 -o addr show").get("stdout").asText()).contains(ip + "/30");
        assertThat(api.get("/v1/sandboxes/by-ip/" + ip, api.aliceKey).data().get("id").asText()).isEqualTo(a);
        assertThat(api.get("/v1/sandboxes/by-ip/" + ip, api.bobKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/sandboxes/by-ip/10.9.9.9", api.aliceKey).status()).isEqualTo(404);
    }

    @Test
    @Order(2)
    void twoMembersReachEachOtherByNameAndByMemberIpAndANonMemberDoesNot() throws Exception {
        String aMemberIp = memberIp(a);
        assertThat(network.networkPool().contains(Ipv4Cidr.parseAddress(aMemberIp))).as(aMemberIp).isTrue();
        assertThat(curl(b, "http://" + aMemberIp + ":8000/").get("exit_code").asInt())
                .as("node-b is no member yet").isNotZero();

        Reply attach = api.post("/v1/sandboxes/" + b + "/networks", api.aliceKey, map("id", net));
        assertThat(attach.json().toString()).isEqualTo("{\"status\":\"success\",\"data\":{\"ok\":true}}");
        assertThat(api.post("/v1/sandboxes/" + b + "/networks", api.aliceKey, map("id", net)).status())
                .isEqualTo(409);
        JsonNode members = api.get("/v1/networks/" + net, api.aliceKey).data().get("members");
        assertThat(members.findValuesAsText("sandbox_id")).containsExactlyInAnyOrder(a, b);
        assertThat(members.findValuesAsText("name")).containsExactlyInAnyOrder("node-a", "node-b");
        assertThat(members.findValuesAsText("status")).containsOnly("attached");

        for (String target : List.of(aMemberIp, "node-a", "node-a.fc.local", "node-a.team-net.fc.local")) {
            JsonNode got = curl(b, "http://" + target + ":8000/");
            assertThat(got.get("exit_code").asInt()).as("%s from node-b: %s", target, got).isZero();
            assertThat(got.get("stdout").asText()).contains("Directory listing");
        }
        String bMemberIp = memberIp(b);
        assertThat(sh(a, "ping -c 1 -W 3 " + bMemberIp).get("exit_code").asInt())
                .as("node-a reaches node-b's member address although its allowlist is allowed.test:80").isZero();
    }

    @Test
    @Order(3)
    void theAllowlistAdmitsOnlyItsHostUntilAPutOpensIt() throws Exception {
        assertThat(curl(a, "http://allowed.test/hello").get("stdout").asText())
                .isEqualTo("hello from " + outside.address(2));
        assertThat(curl(a, "http://other.test/hello").get("exit_code").asInt()).isNotZero();
        assertThat(curl(a, "http://" + outside.address(3) + "/hello").get("exit_code").asInt()).isNotZero();

        Reply opened = put("/v1/sandboxes/" + a + "/egress", "{\"egress\":[]}");
        assertThat(opened.data().toString()).isEqualTo("{\"id\":\"" + a + "\",\"egress\":[]}");
        assertThat(curl(a, "http://other.test/hello").get("stdout").asText())
                .isEqualTo("hello from " + outside.address(3));

        Reply closed = put("/v1/sandboxes/" + a + "/egress", "{\"egress\":[\"" + outside.address(2) + "\"]}");
        assertThat(closed.status()).isEqualTo(200);
        assertThat(curl(a, "http://" + outside.address(3) + "/hello").get("exit_code").asInt()).isNotZero();
        assertThat(curl(a, "http://" + outside.address(2) + "/hello").get("exit_code").asInt()).isZero();
    }

    @Test
    @Order(4)
    void noSandboxReachesTheApiPort() throws Exception {
        int port = api.server.port();
        HttpClient http = HttpClient.newHttpClient();
        // A control: the API answers on the host's address facing the outside host.
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://" + outside.address(1) + ":" + port
                + "/healthz")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(200);
        String gateway = sh(b, "ip route show default | cut -d' ' -f3").get("stdout").asText().trim();
        for (String host : List.of(gateway, outside.address(1))) {
            assertThat(curl(b, "http://" + host + ":" + port + "/healthz").get("exit_code").asInt())
                    .as("API via %s", host).isNotZero();
        }
    }

    @Test
    @Order(5)
    void bandwidthCountsTheTrafficAndTheViewShowsIngressBytes() throws Exception {
        assertThat(curl(b, "-o /dev/null http://allowed.test/bytes?n=300000").get("exit_code").asInt()).isZero();
        JsonNode bw = api.get("/v1/sandboxes/" + b + "/bandwidth", api.aliceKey).data();
        assertThat(bw.get("quota_bytes").asLong()).isEqualTo(10737418240L);
        assertThat(bw.get("used_bytes").asLong()).isPositive();
        assertThat(bw.get("ingress_bytes").asLong()).isGreaterThan(300000);
        assertThat(bw.get("remaining_bytes").asLong()).isEqualTo(10737418240L - bw.get("used_bytes").asLong());
        assertThat(bw.get("capped").asBoolean()).isFalse();
        assertThat(api.get("/v1/sandboxes/" + b, api.aliceKey).data().get("bandwidth_ingress_bytes").asLong())
                .isGreaterThan(300000);
        JsonNode listed = api.get("/v1/sandboxes?limit=500", api.aliceKey).data().get("data");
        for (JsonNode view : listed) {
            assertThat(view.get("bandwidth_ingress_bytes").asLong()).as(view.get("id").asText()).isPositive();
        }
        JsonNode recharged = api.post("/v1/sandboxes/" + b + "/bandwidth/recharge", api.aliceKey,
                map("add_bytes", 1024)).data();
        assertThat(recharged.get("quota_bytes").asLong()).isEqualTo(10737418240L + 1024);
    }

    @Test
    @Order(6)
    void detachCutsTheMemberOffAndTheNetworkGoesOnceNoLiveMemberRemains() throws Exception {
        String aMemberIp = memberIp(a);
        assertThat(api.delete("/v1/sandboxes/" + b + "/networks/" + net, api.aliceKey).status()).isEqualTo(200);
        assertThat(api.delete("/v1/sandboxes/" + b + "/networks/" + net, api.aliceKey).status()).isEqualTo(404);
        assertThat(curl(b, "http://" + aMemberIp + ":8000/").get("exit_code").asInt()).isNotZero();
        assertThat(sh(b, "getent hosts node-a.fc.local").get("exit_code").asInt()).isNotZero();
        assertThat(api.get("/v1/networks/" + net, api.aliceKey).data().get("members").findValuesAsText("sandbox_id"))
                .containsExactly(a);

        assertThat(api.delete("/v1/networks/" + net, api.aliceKey).status()).isEqualTo(409);
        assertThat(api.delete("/v1/sandboxes/" + a, api.aliceKey).status()).isEqualTo(200);
        // A destroying member still counts (spec §10.4: "network in use" for a moment after a destroy).
        for (int i = 0; i < 300 && !api.get("/v1/sandboxes/" + a, api.aliceKey).data().get("status").asText()
                .equals("destroyed"); i++) {
            Thread.sleep(100);
        }
        assertThat(api.get("/v1/networks?limit=500", api.aliceKey).data().get("data").get(0).get("member_count")
                .asInt()).isZero();
        assertThat(api.delete("/v1/networks/" + net, api.aliceKey).status()).isEqualTo(200);
    }

    @Test
    @Order(7)
    void aQuotaSetOnForkCapsTheChildsTrafficPastItAndARechargeLiftsTheCap() throws Exception {
        long quota = 2L * 1024 * 1024; // issue 5 says 2 GiB; 2 MiB tests the same rule in seconds under emulation
        String upload = "head -c 4194304 /dev/zero | curl -sS --max-time 10 -X POST --data-binary @- http://allowed.test/sink";
        assertThat(api.post("/v1/sandboxes/" + b + "/pause", api.aliceKey, map()).status()).isEqualTo(200);
        Reply forked = api.post("/v1/sandboxes/" + b + "/fork", api.aliceKey, map("bandwidth_quota_bytes", quota));
        assertThat(forked.status()).as(forked.toString()).isEqualTo(200);
        String child = forked.data().get("id").asText();
        assertThat(api.get("/v1/sandboxes/" + child + "/bandwidth", api.aliceKey).data().get("quota_bytes").asLong())
                .isEqualTo(quota);

        assertThat(sh(child, upload).get("exit_code").asInt()).as("an upload past the quota").isNotZero();
        JsonNode capped = api.get("/v1/sandboxes/" + child + "/bandwidth", api.aliceKey).data();
        assertThat(capped.get("capped").asBoolean()).as(capped.toString()).isTrue();
        assertThat(capped.get("remaining_bytes").asLong()).isZero();
        assertThat(curl(child, "http://allowed.test/hello").get("exit_code").asInt()).as("capped: nothing goes out")
                .isNotZero();

        JsonNode recharged = api.post("/v1/sandboxes/" + child + "/bandwidth/recharge", api.aliceKey,
                map("add_bytes", 64L * 1024 * 1024)).data();
        assertThat(recharged.get("quota_bytes").asLong()).isEqualTo(quota + 64L * 1024 * 1024);
        assertThat(recharged.get("capped").asBoolean()).isFalse();
        assertThat(sh(child, upload).get("stdout").asText()).isEqualTo("4194304");
        assertThat(api.get("/v1/sandboxes/" + b + "/bandwidth", api.aliceKey).data().get("capped").asBoolean())
                .as("the source's own quota is untouched").isFalse();
        assertThat(api.delete("/v1/sandboxes/" + child, api.aliceKey).status()).isEqualTo(200);
    }

    private String memberIp(String sandboxId) throws Exception {
        for (JsonNode m : api.get("/v1/networks/" + net, api.aliceKey).data().get("members")) {
            if (m.get("sandbox_id").asText().equals(sandboxId)) {
                return m.get("ip").asText();
            }
        }
        throw new AssertionError(sandboxId + " is no member of " + net);
    }

    private JsonNode curl(String sandboxId, String args) throws Exception {
        return sh(sandboxId, "curl -sS --max-time 6 " + args);
    }

    private JsonNode sh(String sandboxId, String script) throws Exception {
        Reply reply = api.post("/v1/sandboxes/" + sandboxId + "/exec", api.aliceKey,
                map("cmd", "bash", "args", List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("result");
    }

    private Reply put(String path, String json) throws Exception {
        return api.send(TestApi.withKey(api.request(path), api.aliceKey).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }
}
