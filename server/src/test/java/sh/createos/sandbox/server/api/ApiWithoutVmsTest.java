package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Accounts;
import sh.createos.sandbox.server.ApiWithoutVms;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

/**
 * Everything the API does without booting a VM, against a real server whose data directory has no guest kit:
 * envelopes, auth, CORS, catalogs, listing and pagination (rows written through the real store), ownership and
 * every validation error.
 */
class ApiWithoutVmsTest extends ApiWithoutVms {

    @Test
    void healthzIsAJSendEnvelopeWithoutAuth() throws Exception {
        Reply reply = api.get("/healthz", null);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.header("Content-Type")).contains("application/json");
        assertThat(reply.json().toString()).isEqualTo("{\"status\":\"success\",\"data\":{\"up\":true}}");
    }

    @Test
    void readyzIs503WithAReasonWhenThereIsNoGuestKit() throws Exception {
        Reply reply = api.get("/readyz", null);
        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.json().get("status").asText()).isEqualTo("fail");
        assertThat(reply.data().get("ready").asBoolean()).isFalse();
        assertThat(reply.data().get("reason").asText()).contains("setup");
    }

    @Test
    void everyResponseCarriesItsOwnRequestId() throws Exception {
        Set<String> ids = new HashSet<>();
        for (Reply reply : List.of(api.get("/healthz", null), api.get("/v1/whoami", null),
                api.get("/v1/nothing-here", api.aliceKey), api.get("/v1/sandboxes/sb_x", api.aliceKey))) {
            assertThat(reply.header("X-Request-Id")).startsWith("req_");
            ids.add(reply.header("X-Request-Id"));
        }
        assertThat(ids).hasSize(4);
    }

    @Test
    void corsPreflightAllowsTheSdkHeaders() throws Exception {
        Reply reply = api.send(api.request("/v1/sandboxes").header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "x-api-key,content-type,x-my-session")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(reply.status()).isEqualTo(204);
        assertThat(reply.header("Access-Control-Allow-Origin")).isEqualTo("*");
        assertThat(reply.header("Access-Control-Allow-Headers")).contains("X-Api-Key", "X-Fc-Runtime",
                "Content-Type", "User-Agent", "Authorization", "X-Auth-Token", "X-Access-Token", "x-my-session");
        assertThat(reply.header("Access-Control-Allow-Methods")).contains("PATCH", "DELETE", "PUT");
        Reply actual = api.send(TestApi.withKey(api.request("/v1/whoami"), api.aliceKey)
                .header("Origin", "https://app.example").build());
        assertThat(actual.header("Access-Control-Allow-Origin")).isEqualTo("*");
        assertThat(actual.header("Access-Control-Expose-Headers")).contains("X-Request-Id", "Retry-After");
    }

    @Test
    void authAcceptsEachCredentialHeaderAndRejectsBadOnes() throws Exception {
        assertThat(api.get("/v1/whoami", api.aliceKey).data().get("user_id").asText()).isEqualTo(api.alice.id());
        for (String header : List.of("X-Auth-Token", "X-Access-Token")) {
            Reply reply = api.send(api.request("/v1/whoami").header(header, api.bobKey).build());
            assertThat(reply.data().get("user_id").asText()).isEqualTo(api.bob.id());
        }
        Reply bearer = api.send(api.request("/v1/whoami").header("Authorization", "Bearer " + api.bobKey).build());
        assertThat(bearer.data().get("user_id").asText()).isEqualTo(api.bob.id());

        Reply missing = api.get("/v1/whoami", null);
        assertThat(missing.status()).isEqualTo(401);
        assertThat(missing.json().get("status").asText()).isEqualTo("fail");
        assertThat(missing.data().get("code").asText()).isEqualTo("UNAUTHORIZED");
        assertThat(api.get("/v1/whoami", "sk_wrong").status()).isEqualTo(401);
        // Authorization is checked before X-Api-Key, like the real control plane.
        Reply bothBadFirst = api.send(TestApi.withKey(api.request("/v1/whoami"), api.aliceKey)
                .header("Authorization", "Bearer sk_wrong").build());
        assertThat(bothBadFirst.status()).isEqualTo(401);
    }

    @Test
    void aRevokedKeyIsRejected() throws Exception {
        Accounts accounts = new Accounts(api.server.store());
        var issued = accounts.createKey(api.alice.email());
        assertThat(api.get("/v1/whoami", issued.secret()).status()).isEqualTo(200);
        assertThat(accounts.revokeKey(issued.keyId())).isTrue();
        Reply revoked = api.get("/v1/whoami", issued.secret());
        assertThat(revoked.status()).isEqualTo(401);
        assertThat(revoked.data().get("message").asText()).contains("revoked");
        assertThat(api.get("/v1/whoami", api.aliceKey).status()).isEqualTo(200);
    }

    @Test
    void shapesAreAPaginatedCatalogWithoutAuth() throws Exception {
        Reply all = api.get("/v1/shapes?limit=500&offset=0", null);
        assertThat(all.status()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        all.data().get("data").forEach(s -> ids.add(s.get("id").asText()));
        assertThat(ids).contains("s-1vcpu-256mb", "s-1vcpu-1gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-4gb",
                "s-1vcpu-512mb", "s-1vcpu-2gb").hasSize(7);
        assertThat(all.data().get("data").get(0).toString())
                .isEqualTo("{\"id\":\"s-1vcpu-256mb\",\"vcpu\":1,\"mem_mib\":256,\"default_disk_mib\":10240}");
        assertThat(all.data().get("pagination").toString())
                .isEqualTo("{\"total\":7,\"limit\":500,\"offset\":0,\"count\":7}");
        Reply tail = api.get("/v1/shapes?limit=2&offset=6", null);
        assertThat(tail.data().get("data")).hasSize(1);
        assertThat(tail.data().get("pagination").get("total").asInt()).isEqualTo(7);
        assertThat(api.get("/v1/shapes?limit=100000", null).data().get("pagination").get("limit").asInt())
                .isEqualTo(500);
    }

    @Test
    void rootfsCatalogIsNotPaginatedAndOmitsEntriesWhenEmpty() throws Exception {
        Reply reply = api.get("/v1/rootfs", null);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.data().toString()).isEqualTo("{\"rootfs\":[],\"default\":\"devbox:1\"}");
    }

    @Test
    void hostsNeedAuthAndListThisMachine() throws Exception {
        assertThat(api.get("/v1/hosts?limit=500&offset=0", null).status()).isEqualTo(401);
        Reply reply = api.get("/v1/hosts?limit=500&offset=0", api.aliceKey);
        JsonNode host = reply.data().get("data").get(0);
        assertThat(host.get("id").asText()).isEqualTo("local");
        assertThat(host.get("status").asText()).isEqualTo("dead"); // no guest kit here
        assertThat(host.get("free_mib").asLong()).isPositive();
        assertThat(host.get("vm_count").asInt()).isZero();
        assertThat(host.has("rootfses")).isFalse();
        assertThat(reply.data().get("pagination").get("total").asInt()).isEqualTo(1);
    }

    @Test
    void listingPagesStablyHidesDestroyedAndFiltersByStatus() throws Exception {
        User carol = new Accounts(api.server.store()).createUser("carol@example.com", 3);
        String key = new Accounts(api.server.store()).createKey(carol.id()).secret();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            SandboxStatus status = i == 2 ? SandboxStatus.DESTROYED : i == 5 ? SandboxStatus.FAILED
                    : SandboxStatus.RUNNING;
            SandboxRecord row = insert(carol, "row-" + i, status, null);
            if (status != SandboxStatus.DESTROYED) {
                expected.add(row.id());
            }
        }
        List<String> seen = new ArrayList<>();
        int offset = 0;
        while (true) {
            Reply page = api.get("/v1/sandboxes?limit=2&offset=" + offset, key);
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.data().get("pagination").get("total").asInt()).isEqualTo(6);
            JsonNode items = page.data().get("data");
            items.forEach(s -> seen.add(s.get("id").asText()));
            offset += items.size();
            if (items.isEmpty() || offset >= 6) {
                break;
            }
        }
        assertThat(seen).containsExactlyElementsOf(expected);
        Reply destroyed = api.get("/v1/sandboxes?limit=500&offset=0&status=destroyed", key);
        assertThat(destroyed.data().get("data")).hasSize(1);
        assertThat(destroyed.data().get("data").get(0).get("status").asText()).isEqualTo("destroyed");
        assertThat(api.get("/v1/sandboxes?status=failed", key).data().get("pagination").get("total").asInt())
                .isEqualTo(1);
        assertThat(api.get("/v1/sandboxes?limit=9999", key).data().get("pagination").get("limit").asInt())
                .isEqualTo(500);
        String otherKey = new Accounts(api.server.store()).createKey(
                new Accounts(api.server.store()).createUser("dave@example.com", 3).id()).secret();
        assertThat(api.get("/v1/sandboxes?limit=50&offset=0", otherKey).data().get("data")).isEmpty();

        JsonNode stats = api.get("/v1/whoami", key).data().get("stats");
        assertThat(stats.toString()).isEqualTo("{\"running\":5,\"paused\":0,\"other\":1,\"total\":6}");
    }

    @Test
    void badListParametersAre400() throws Exception {
        for (String query : List.of("status=sleeping", "limit=0", "limit=abc", "offset=-1")) {
            Reply reply = api.get("/v1/sandboxes?" + query, api.aliceKey);
            assertThat(reply.status()).as(query).isEqualTo(400);
            assertThat(reply.data().get("code").asText()).isEqualTo("VALIDATION");
        }
    }

    @Test
    void anotherUsersSandboxIsNotFoundOnEveryRoute() throws Exception {
        SandboxRecord bobs = insert(api.bob, "bobs", SandboxStatus.RUNNING, "10.9.0.7");
        String base = "/v1/sandboxes/" + bobs.id();
        assertThat(api.get(base, api.bobKey).status()).isEqualTo(200);
        assertThat(api.get(base, api.aliceKey).status()).isEqualTo(404);
        assertThat(api.delete(base, api.aliceKey).status()).isEqualTo(404);
        assertThat(api.patch(base, api.aliceKey, map("ingress_enabled", true)).status()).isEqualTo(404);
        assertThat(api.post(base + "/exec", api.aliceKey, map("cmd", "id", "args", List.of())).status())
                .isEqualTo(404);
        assertThat(api.get(base + "/files?path=%2Fetc%2Fhostname", api.aliceKey).status()).isEqualTo(404);
        assertThat(api.post(base + "/resize", api.aliceKey, map("disk_mib", 20480)).status()).isEqualTo(404);
        assertThat(api.post(base + "/ssh-pubkeys", api.aliceKey, map("keys", List.of())).status()).isIn(400, 404);
        assertThat(api.get("/v1/sandboxes/by-ip/10.9.0.7", api.aliceKey).status()).isEqualTo(404);
        Reply byIp = api.get("/v1/sandboxes/by-ip/10.9.0.7", api.bobKey);
        assertThat(byIp.data().get("id").asText()).isEqualTo(bobs.id());
        assertThat(api.get(base, api.bobKey).data().get("status").asText()).isEqualTo("running");
    }

    @Test
    void pathParametersArePercentDecodedAfterSplitting() throws Exception {
        Reply reply = api.get("/v1/sandboxes/sb%20id%2Fx", api.aliceKey);
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.data().get("message").asText()).isEqualTo("sandbox sb id/x not found");
        Reply ipv6 = api.get("/v1/sandboxes/by-ip/fe80%3A%3A1", api.aliceKey);
        assertThat(ipv6.data().get("message").asText()).contains("fe80::1");
    }

    @Test
    void unknownRoutesAndMethodsAreJsonErrors() throws Exception {
        Reply unknown = api.get("/v1/teapots", api.aliceKey);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("status").asText()).isEqualTo("fail");
        Reply method = api.send(TestApi.withKey(api.request("/v1/whoami"), api.aliceKey)
                .DELETE().build());
        assertThat(method.status()).isEqualTo(405);
    }

    @Test
    void createRejectsBadBodiesWith400AndCreatesNothing() throws Exception {
        Map<String, Object> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"shape\":", "malformed JSON");
        cases.put("[]", "JSON object");
        cases.put("", "required");
        cases.put("{\"shape\":5}", "shape");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"disk_mib\":\"big\"}", "disk_mib");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"envs\":[\"A=1\"]}", "envs");
        cases.put("{}", "'shape' is required");
        cases.put("{\"shape\":\"s-64vcpu-1tb\"}", "unknown shape");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"auto_pause_after_seconds\":10}", "auto_pause_after_seconds");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"bandwidth_quota_bytes\":5}", "bandwidth_quota_bytes");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"region\":\"mars-1\"}", "region");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"ssh_pubkeys\":[\"ssh-ed25519 !!!\"]}", "base64");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"name\":\"../etc\"}", "invalid name");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"disks\":[{\"disk_id\":\"d\",\"mount_path\":\"/mnt\"}]}", "disk");
        // Issue 18: these were 500s that showed a NullPointerException, or stored a key with a second line.
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"disks\":[null]}", "'disks' must not contain null");
        cases.put("{\"shape\":\"s-1vcpu-256mb\",\"ssh_pubkeys\":[\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a\\nssh-ed25519 AAAA b\"]}",
                "one line");
        for (var c : cases.entrySet()) {
            Reply reply = api.post("/v1/sandboxes", api.aliceKey, c.getKey());
            assertThat(reply.status()).as(c.getKey()).isEqualTo(400);
            assertThat(reply.json().get("status").asText()).isEqualTo("fail");
            assertThat(reply.data().get("message").asText()).as(c.getKey()).contains((String) c.getValue())
                    .doesNotContain("java.", "Exception");
        }
        Reply envs = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                "envs", Map.of("BIG", "x".repeat(40_000))));
        assertThat(envs.status()).as(envs.toString()).isEqualTo(413);
        assertThat(envs.data().get("code").asText()).isEqualTo("PAYLOAD_TOO_LARGE");
        assertThat(api.get("/v1/sandboxes?status=creating", api.aliceKey).data().get("data")).isEmpty();
        assertThat(api.get("/v1/sandboxes?status=failed", api.aliceKey).data().get("data")).isEmpty();
    }

    @Test
    void aDiskLargerThanTheHostCanHoldIsRefusedBeforeAnyRow() throws Exception {
        // Issue 18: a 200 GiB disk was accepted with 76 GiB free.
        long freeMib = java.nio.file.Files.getFileStore(api.dataDir).getUsableSpace() >> 20;
        org.junit.jupiter.api.Assumptions.assumeTrue(2 * freeMib < 1024 * 1024, "more than 512 GiB free here");
        Reply reply = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-256mb",
                "disk_mib", (int) Math.min(1024 * 1024, 2 * freeMib + 1)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(400);
        assertThat(reply.data().get("code").asText()).isEqualTo("DISK_TOO_LARGE");
        assertThat(reply.data().get("message").asText()).contains("can be admitted on this host");
        assertThat(api.get("/v1/sandboxes?status=failed", api.aliceKey).data().get("data")).isEmpty();
        assertThat(api.get("/v1/sandboxes?status=creating", api.aliceKey).data().get("data")).isEmpty();
    }

    @Test
    void createWithoutAnyHostIs503AndLeavesNoRow() throws Exception {
        User erin = new Accounts(api.server.store()).createUser("erin@example.com", 3);
        String key = new Accounts(api.server.store()).createKey(erin.id()).secret();
        Reply reply = api.post("/v1/sandboxes", key, map("shape", "s-1vcpu-256mb"));
        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.json().get("status").asText()).isEqualTo("error");
        assertThat(reply.json().get("code").asInt()).isEqualTo(503);
        assertThat(reply.json().get("message").asText()).contains("no host with capacity");
        long rows = api.server.store().countSandboxes(erin.id(), null)
                + api.server.store().countSandboxes(erin.id(), SandboxStatus.DESTROYED);
        assertThat(rows).isZero();
    }

    @Test
    void theSandboxCapIs403WithAMachineCode() throws Exception {
        User capped = new Accounts(api.server.store()).createUser("capped@example.com", 1);
        String key = new Accounts(api.server.store()).createKey(capped.id()).secret();
        insert(capped, "only", SandboxStatus.RUNNING, null);
        Reply reply = api.post("/v1/sandboxes", key, map("shape", "s-1vcpu-256mb"));
        assertThat(reply.status()).isEqualTo(403);
        assertThat(reply.data().get("code").asText()).isEqualTo("SANDBOX_LIMIT");
        // Issue 18: a sandbox stuck in destroying kept counting against the cap.
        User deleting = new Accounts(api.server.store()).createUser("deleting@example.com", 1);
        String deletingKey = new Accounts(api.server.store()).createKey(deleting.id()).secret();
        insert(deleting, "going", SandboxStatus.DESTROYING, null);
        Reply admitted = api.post("/v1/sandboxes", deletingKey, map("shape", "s-1vcpu-256mb"));
        assertThat(admitted.status()).as("past the cap check: no host here").isEqualTo(503);
    }

    @Test
    void actionsOnASandboxThatIsNotRunningAre409() throws Exception {
        SandboxRecord failed = insert(api.alice, "broken", SandboxStatus.FAILED, null);
        String base = "/v1/sandboxes/" + failed.id();
        Reply exec = api.post(base + "/exec", api.aliceKey, map("cmd", "true", "args", List.of()));
        assertThat(exec.status()).isEqualTo(409);
        assertThat(exec.data().get("code").asText()).isEqualTo("INVALID_STATE");
        assertThat(api.patch(base, api.aliceKey, map("ingress_enabled", true)).status()).isEqualTo(409);
        assertThat(api.get(base + "/files?path=%2Fetc%2Fhostname", api.aliceKey).status()).isEqualTo(409);
        assertThat(api.post(base + "/resize", api.aliceKey, map("disk_mib", 99999)).status()).isEqualTo(409);
    }

    @Test
    void badExecPatchFileAndResizeBodiesAre400() throws Exception {
        SandboxRecord row = insert(api.alice, "validation", SandboxStatus.RUNNING, null);
        String base = "/v1/sandboxes/" + row.id();
        assertThat(api.post(base + "/exec", api.aliceKey, map("cmd", "", "args", List.of())).status()).isEqualTo(400);
        assertThat(api.post(base + "/exec", api.aliceKey, map("cmd", "ls", "args", "-l")).status()).isEqualTo(400);
        assertThat(api.post(base + "/exec", api.aliceKey, "{").status()).isEqualTo(400);
        assertThat(api.patch(base, api.aliceKey, map("auto_pause_after_seconds", 59)).status()).isEqualTo(400);
        assertThat(api.patch(base, api.aliceKey, map("auto_pause_after_seconds", 86401)).status()).isEqualTo(400);
        assertThat(api.patch(base, api.aliceKey, map("ingress_enabled", "yes")).status()).isEqualTo(400);
        assertThat(api.post(base + "/resize", api.aliceKey, map()).status()).isEqualTo(400);
        assertThat(api.post(base + "/ssh-pubkeys", api.aliceKey, map("keys", List.of("ssh-rsa nope"))).status())
                .isEqualTo(400);
        for (String path : List.of("etc%2Fpasswd", "%2Fetc%2F..%2Fpasswd", "%2Ftmp%2F.%2Fx", "%2F", "")) {
            Reply reply = api.get(base + "/files?path=" + path, api.aliceKey);
            assertThat(reply.status()).as(path).isEqualTo(400);
            assertThat(reply.header("Content-Type")).contains("application/json");
        }
        Reply put = api.send(TestApi.withKey(api.request(base + "/files?path=relative.txt"), api.aliceKey)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(put.status()).isEqualTo(400);
    }

    @Test
    void destroyIsIdempotentAndKeepsTheRowReadable() throws Exception {
        SandboxRecord failed = insert(api.alice, "to-destroy", SandboxStatus.FAILED, null);
        String base = "/v1/sandboxes/" + failed.id();
        Reply first = api.delete(base, api.aliceKey);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.data().toString()).isEqualTo("{\"id\":\"" + failed.id() + "\",\"status\":\"destroyed\"}");
        assertThat(api.delete(base, api.aliceKey).data().get("status").asText()).isEqualTo("destroyed");
        JsonNode view = api.get(base, api.aliceKey).data();
        assertThat(view.get("status").asText()).isEqualTo("destroyed");
        assertThat(view.has("destroyed_at")).isTrue();
    }

    @Test
    void errorsJettyAnswersItselfAreJSendToo() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", api.server.port())) {
            socket.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20000)
                    + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 431").contains("X-Request-Id: req_")
                    .contains("application/json").contains("{\"status\":\"fail\",\"data\":{\"message\":");
        }
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", api.server.port())) {
            socket.getOutputStream().write(("GET /v1/sandboxes/%zz HTTP/1.1\r\nHost: x\r\nX-Api-Key: " + api.aliceKey
                    + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 400").contains("X-Request-Id: req_")
                    .contains("{\"status\":\"fail\"");
        }
    }

    /** Env values and disk credentials are sealed with the secret key: one that does not open stops the start. */
    @Test
    void aSecretKeyThatDoesNotOpenStopsTheStartNamingTheFile(@TempDir Path other) throws Exception {
        java.nio.file.Files.writeString(other.resolve("secret.key"), "not a key\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestApi.start(other, false))
                .hasMessageContaining(other.resolve("secret.key").toString())
                .hasMessageContaining("32-byte base64 key");
    }

    @Test
    void disksAreConfiguredWithTheDataDirectorysKey() throws Exception {
        Reply reply = api.get("/v1/disks", api.aliceKey);
        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.data().get("data")).isEmpty();
        assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve("secret.key")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    }

    private SandboxRecord insert(User owner, String name, SandboxStatus status, String ip) {
        SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), owner.id(), name, status, "s-1vcpu-256mb",
                "devbox:1", 1, 256, 10240, ip, "local", false, null, Map.of("SECRET", "value"), List.of(),
                List.of(), 10737418240L, null, Instant.now(), null, null, null, owner.email());
        api.server.store().insertSandbox(row);
        return row;
    }
}
