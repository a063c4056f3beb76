package sh.createos.sandbox.server.disks;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
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
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.ServerConfig;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;
import sh.createos.sandbox.server.network.TestNetworks;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Issue 15's S3 disks through the API with a real VM, the host's real data path and a real S3 server (S3Proxy,
 * filesystem backend) in a network namespace that plays the outside world. One sandbox ({@code box}) whose egress
 * allowlist excludes the S3 endpoint, mounting a disk from create; a fork's child briefly beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DisksApiTest {
    private static final String BUCKET = "bkt";
    @TempDir
    static Path dir;
    private ExternalHost outside;
    private S3ProxyServer s3proxy;
    private S3Client s3;
    private NetworkConfig network;
    private TestApi api;
    private String diskId;
    private String box;

    @BeforeAll
    void start() throws Exception {
        int subnet = 216 + ThreadLocalRandom.current().nextInt(16);
        outside = ExternalHost.start(Map.of(), subnet);
        s3proxy = S3ProxyServer.start(outside.namespace(), outside.address(2), 9000, dir);
        s3 = s3proxy.client();
        s3.createBucket(b -> b.bucket(BUCKET));
        network = TestNetworks.config(dir, List.of(new InetSocketAddress(outside.address(2), 53)));
        api = TestApi.start(dir, true, c -> new ServerConfig(c.dataDir(), c.host(), 0, c.databaseUrl(),
                c.autoPauseMinSeconds(), c.ingress(), network));
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (api != null) {
                api.close();
                TestNetworks.destroy(network);
            }
        } finally {
            if (s3 != null) {
                s3.close();
            }
            if (s3proxy != null) {
                s3proxy.close();
            }
            if (outside != null) {
                outside.close();
            }
        }
    }

    @Test
    @Order(1)
    void registrationChecksTheBucketAndNeverShowsCredentials() throws Exception {
        Reply badKeys = api.post("/v1/disks", api.aliceKey, disk("data", BUCKET, "wrong-secret"));
        assertThat(badKeys.status()).as(badKeys.toString()).isEqualTo(400);
        assertThat(badKeys.toString()).contains("bad credentials");
        Reply noBucket = api.post("/v1/disks", api.aliceKey, disk("data", "no-such-bucket", S3ProxyServer.SECRET_KEY));
        assertThat(noBucket.status()).isEqualTo(400);
        assertThat(noBucket.toString()).contains("unknown bucket");
        Map<String, Object> nobodyThere = disk("data", BUCKET, S3ProxyServer.SECRET_KEY);
        nobodyThere.put("config", map("bucket", BUCKET, "endpoint", "http://" + outside.address(3) + ":9000",
                "use_path_style", true));
        Reply unreachable = api.post("/v1/disks", api.aliceKey, nobodyThere);
        assertThat(unreachable.status()).isEqualTo(400);
        assertThat(unreachable.toString()).contains("endpoint unreachable");
        Reply badName = api.post("/v1/disks", api.aliceKey, disk("Data_1", BUCKET, S3ProxyServer.SECRET_KEY));
        assertThat(badName.status()).isEqualTo(400);

        Reply created = api.post("/v1/disks", api.aliceKey, disk("data", BUCKET, S3ProxyServer.SECRET_KEY));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        diskId = created.data().get("id").asText();
        assertThat(diskId).startsWith("disk_");
        assertThat(created.data().get("config").get("bucket").asText()).isEqualTo(BUCKET);
        assertThat(created.data().get("config").get("use_path_style").asBoolean()).isTrue();
        assertThat(api.post("/v1/disks", api.aliceKey, disk("data", BUCKET, S3ProxyServer.SECRET_KEY)).status())
                .isEqualTo(409);

        for (Reply r : List.of(created, api.get("/v1/disks/data", api.aliceKey),
                api.get("/v1/disks/" + diskId, api.aliceKey), api.get("/v1/disks", api.aliceKey))) {
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.raw().body().length).isPositive();
            String body = new String(r.raw().body(), StandardCharsets.UTF_8);
            assertThat(body).doesNotContain(S3ProxyServer.SECRET_KEY).doesNotContain("credentials")
                    .contains(diskId);
        }
        assertThat(api.get("/v1/disks", api.aliceKey).data().get("data")).hasSize(1);
        assertThat(api.get("/v1/disks/data", api.bobKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/disks/" + diskId, api.bobKey).status()).isEqualTo(404);
        assertThat(api.get("/v1/disks", api.bobKey).data().get("data")).isEmpty();
        // At rest: sealed, not the secret.
        String db = new String(Files.readAllBytes(dir.resolve("control.db")), StandardCharsets.ISO_8859_1);
        assertThat(db).doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    @Order(2)
    void aDiskNamedAtCreateMountsThoughTheAllowlistExcludesItsEndpoint() throws Exception {
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "box",
                "egress", List.of("192.0.2.1:80"),
                "disks", List.of(map("disk_id", "data", "mount_path", "/mnt/data"))));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        box = created.data().get("id").asText();
        JsonNode mount = awaitStatus(box, "/mnt/data", "mounted");
        assertThat(mount.get("disk_id").asText()).isEqualTo(diskId);
        assertThat(mount.get("name").asText()).isEqualTo("data");
        assertThat(mount.get("config").get("endpoint").asText()).isEqualTo(s3proxy.endpoint());
        // The exception is the endpoint's address and port only: the same address on port 80 stays closed.
        assertThat(sh(box, "curl -sS --max-time 5 http://" + outside.address(2) + "/hello").get("exit_code").asInt())
                .as("curl's 7: refused by the allowlist").isEqualTo(7);
        assertThat(sh(box, "mount | grep -c 'type fuse.s3fs'").get("stdout").asText().trim()).isEqualTo("1");
        // The credentials file is root's alone.
        assertThat(sh(box, "stat -c '%a %U' /run/createos-disks/*.passwd; stat -c '%a' /run/createos-disks")
                .get("stdout").asText()).isEqualTo("600 root\n700\n");
    }

    @Test
    @Order(3)
    void aFileWrittenInTheGuestIsAnObjectAndAnObjectPutFromTheHostIsAFile() throws Exception {
        assertThat(sh(box, "echo 'from the guest' > /mnt/data/guest.txt").get("exit_code").asInt()).isZero();
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("guest.txt")).asUtf8String())
                .isEqualTo("from the guest\n");
        s3.putObject(b -> b.bucket(BUCKET).key("dir/host.txt"), RequestBody.fromString("from the host"));
        JsonNode read = sh(box, "cat /mnt/data/dir/host.txt");
        assertThat(read.get("stdout").asText()).as(read.toString()).isEqualTo("from the host");
    }

    /**
     * Guest → bucket → host, then the guest reads it back through the mount. Under emulation on a loaded machine
     * this takes minutes, longer than an HTTP exec should stay open: the guest runs it in the background.
     */
    @Test
    @Order(4)
    void hundredMibRoundTripKeepsItsSha256() throws Exception {
        JsonNode started = sh(box, "nohup setsid sh -c 'head -c 104857600 /dev/urandom > /root/big.src"
                + " && sha256sum < /root/big.src > /root/big.sum && cp /root/big.src /mnt/data/big.bin;"
                + " echo $? > /root/big.done' >/dev/null 2>&1 &");
        assertThat(started.get("exit_code").asInt()).isZero();
        assertThat(awaitGuestFile(box, "/root/big.done")).isEqualTo("0");
        String guestSum = sh(box, "cat /root/big.sum").get("stdout").asText().split(" ")[0];
        ResponseBytes<GetObjectResponse> object = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("big.bin"));
        assertThat(object.asByteArray()).hasSize(104857600);
        assertThat(sha256(object.asByteArray())).isEqualTo(guestSum);

        sh(box, "nohup setsid sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches; rm /root/big.src;"
                + " sha256sum < /mnt/data/big.bin > /root/back.sum; echo $? > /root/back.done' >/dev/null 2>&1 &");
        assertThat(awaitGuestFile(box, "/root/back.done")).isEqualTo("0");
        assertThat(sh(box, "cat /root/back.sum").get("stdout").asText().split(" ")[0]).isEqualTo(guestSum);
        s3.deleteObject(b -> b.bucket(BUCKET).key("big.bin"));
    }

    @Test
    @Order(5)
    void badAttachmentsAreClearErrorsAndMountNothing() throws Exception {
        String bobs = api.post("/v1/disks", api.bobKey, disk("bobs", BUCKET, S3ProxyServer.SECRET_KEY)).data()
                .get("id").asText();
        assertThat(attach(box, map("disk_id", "data", "mount_path", "mnt/rel")).status()).isEqualTo(400);
        assertThat(attach(box, map("disk_id", "data", "mount_path", "/mnt/a/../b")).status()).isEqualTo(400);
        assertThat(attach(box, map("disk_id", "data", "mount_path", "/etc")).status()).isEqualTo(400);
        assertThat(attach(box, map("disk_id", "data", "mount_path", "/mnt/x", "sub_path", "../up")).status())
                .isEqualTo(400);
        assertThat(attach(box, map("disk_id", "data", "mount_path", "/mnt/data")).status()).isEqualTo(409);
        assertThat(attach(box, map("disk_id", bobs, "mount_path", "/mnt/bob")).status()).isEqualTo(404);
        assertThat(attach(box, map("disk_id", "bobs", "mount_path", "/mnt/bob")).status()).isEqualTo(404);
        assertThat(api.post("/v1/sandboxes/" + box + "/disks", api.bobKey,
                map("disk_id", "bobs", "mount_path", "/mnt/bob")).status()).isEqualTo(404);
        Reply inUse = api.delete("/v1/disks/data", api.aliceKey);
        assertThat(inUse.status()).isEqualTo(409);
        assertThat(inUse.toString()).contains("DISK_IN_USE");
        assertThat(api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                "disks", List.of(map("disk_id", "nope", "mount_path", "/mnt/n")))).status()).isEqualTo(400);
        assertThat(api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                "disks", List.of(map("disk_id", "bobs", "mount_path", "/mnt/n")))).status()).isEqualTo(400);

        assertThat(mounts(box)).hasSize(1);
        assertThat(sh(box, "mount | grep -c 'type fuse.s3fs'").get("stdout").asText().trim()).isEqualTo("1");
        assertThat(api.delete("/v1/disks/bobs", api.bobKey).status()).isEqualTo(200);
    }

    @Test
    @Order(6)
    void liveAttachOfASubPathThenDetachAndReattach() throws Exception {
        Reply attached = attach(box, map("disk_id", diskId, "mount_path", "/mnt/sub", "sub_path", "dir"));
        assertThat(attached.json().toString()).isEqualTo("{\"status\":\"success\",\"data\":{\"id\":\"" + box
                + "\",\"ok\":true}}");
        assertThat(awaitStatus(box, "/mnt/sub", "mounted").get("sub_path").asText()).isEqualTo("dir");
        assertThat(sh(box, "cat /mnt/sub/host.txt").get("stdout").asText()).isEqualTo("from the host");
        assertThat(sh(box, "echo sub > /mnt/sub/in-sub.txt").get("exit_code").asInt()).isZero();
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dir/in-sub.txt")).asUtf8String()).isEqualTo("sub\n");

        assertThat(api.delete("/v1/sandboxes/" + box + "/disks/" + diskId, api.aliceKey).status()).isEqualTo(400);
        Reply detached = api.delete("/v1/sandboxes/" + box + "/disks/" + diskId + "?mount_path=/mnt/sub", api.aliceKey);
        assertThat(detached.data().toString()).isEqualTo("{\"detached\":true}");
        assertThat(mounts(box)).hasSize(1);
        assertThat(sh(box, "mountpoint -q /mnt/sub").get("exit_code").asInt()).isNotZero();
        assertThat(api.delete("/v1/sandboxes/" + box + "/disks/" + diskId + "?mount_path=/mnt/sub", api.aliceKey)
                .status()).isEqualTo(404);

        attach(box, map("disk_id", "data", "mount_path", "/mnt/sub", "sub_path", "dir"));
        awaitStatus(box, "/mnt/sub", "mounted");
        assertThat(sh(box, "cat /mnt/sub/in-sub.txt").get("stdout").asText()).isEqualTo("sub\n");
    }

    @Test
    @Order(7)
    void detachWhileAFileIsOpenUnmountsLazilyAndFlushesOnClose() throws Exception {
        // A writer holds /mnt/sub/open.txt open; the detach takes the mount out of the tree at once.
        assertThat(sh(box, "nohup setsid sh -c 'exec 3>/mnt/sub/open.txt; echo held >&3; sleep 4' >/dev/null 2>&1 &"
                + " sleep 1").get("exit_code").asInt()).isZero();
        Reply detached = api.delete("/v1/sandboxes/" + box + "/disks/data?mount_path=/mnt/sub", api.aliceKey);
        assertThat(detached.status()).as(detached.toString()).isEqualTo(200);
        assertThat(sh(box, "mountpoint -q /mnt/sub").get("exit_code").asInt()).isNotZero();
        // When the writer closes the file, s3fs uploads it, then exits.
        assertThat(sh(box, "for i in $(seq 100); do pgrep -f '[s]3fs bkt:/dir' >/dev/null || exit 0; sleep 0.2; done;"
                + " exit 1").get("exit_code").asInt()).isZero();
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dir/open.txt")).asUtf8String()).isEqualTo("held\n");
    }

    @Test
    @Order(8)
    void wrongCredentialsAfterARotationAreAnErrorWithTheReasonAndTheRightOnesMountAgain() throws Exception {
        Reply empty = api.patch("/v1/disks/data", api.aliceKey, map("credentials", map("access_key", "",
                "secret_key", "x")));
        assertThat(empty.status()).isEqualTo(400);
        Reply wrong = api.patch("/v1/disks/data", api.aliceKey, map("credentials", map("access_key",
                S3ProxyServer.ACCESS_KEY, "secret_key", "not-the-secret")));
        assertThat(wrong.status()).as(wrong.toString()).isEqualTo(200);
        assertThat(wrong.toString()).doesNotContain("not-the-secret");
        JsonNode failed = awaitStatus(box, "/mnt/data", "error");
        assertThat(failed.get("mount_error").asText()).startsWith("bad credentials");

        Reply right = api.patch("/v1/disks/" + diskId, api.aliceKey, map("credentials", map("access_key",
                S3ProxyServer.ACCESS_KEY, "secret_key", S3ProxyServer.SECRET_KEY)));
        assertThat(right.status()).isEqualTo(200);
        assertThat(awaitStatus(box, "/mnt/data", "mounted").has("mount_error")).isFalse();
        assertThat(sh(box, "cat /mnt/data/guest.txt").get("stdout").asText()).isEqualTo("from the guest\n");
    }

    @Test
    @Order(9)
    void pauseResumeKeepsTheMountAndAForkKeepsTheParentsMounts() throws Exception {
        assertThat(api.post("/v1/sandboxes/" + box + "/pause", api.aliceKey, map()).status()).isEqualTo(200);
        Reply fork = api.post("/v1/sandboxes/" + box + "/fork", api.aliceKey, map());
        assertThat(fork.status()).as(fork.toString()).isEqualTo(200);
        String child = fork.data().get("id").asText();
        try {
            assertThat(api.post("/v1/sandboxes/" + box + "/resume", api.aliceKey, map()).status()).isEqualTo(200);
            JsonNode inParent = sh(box, "cat /mnt/data/guest.txt && echo after-resume > /mnt/data/resumed.txt");
            assertThat(inParent.get("stdout").asText()).as(inParent.toString()).isEqualTo("from the guest\n");
            assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("resumed.txt")).asUtf8String())
                    .isEqualTo("after-resume\n");

            assertThat(awaitStatus(child, "/mnt/data", "mounted").get("disk_id").asText()).isEqualTo(diskId);
            JsonNode inChild = sh(child, "cat /mnt/data/dir/host.txt && echo child > /mnt/data/child.txt");
            assertThat(inChild.get("stdout").asText()).as(inChild.toString()).isEqualTo("from the host");
            assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("child.txt")).asUtf8String())
                    .isEqualTo("child\n");
        } finally {
            api.delete("/v1/sandboxes/" + child, api.aliceKey);
        }
    }

    @Test
    @Order(10)
    void destroyFlushesAFileStillOpenAndThenTheDiskCanBeDeleted() throws Exception {
        assertThat(sh(box, "nohup setsid sh -c 'exec 3>/mnt/data/last.txt; echo last >&3; sleep 600' >/dev/null 2>&1 &"
                + " sleep 1").get("exit_code").asInt()).isZero();
        assertThat(api.delete("/v1/sandboxes/" + box, api.aliceKey).status()).isEqualTo(200);
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("last.txt")).asUtf8String()).isEqualTo("last\n");
        awaitSandbox(box, "destroyed");
        assertThat(api.delete("/v1/disks/data", api.aliceKey).data().toString()).isEqualTo("{\"deleted\":true}");
        assertThat(api.get("/v1/disks/data", api.aliceKey).status()).isEqualTo(404);
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("guest.txt")).asUtf8String())
                .as("the bucket is untouched").isEqualTo("from the guest\n");
    }

    // ---- helpers ----

    private Map<String, Object> disk(String name, String bucket, String secret) {
        return map("name", name, "kind", "s3", "config", map("bucket", bucket, "endpoint", s3proxy.endpoint(),
                "region", "us-east-1", "use_path_style", true), "credentials", map("access_key",
                S3ProxyServer.ACCESS_KEY, "secret_key", secret));
    }

    private Reply attach(String sandbox, Map<String, Object> body) throws Exception {
        return api.post("/v1/sandboxes/" + sandbox + "/disks", api.aliceKey, body);
    }

    private JsonNode mounts(String sandbox) throws Exception {
        Reply r = api.get("/v1/sandboxes/" + sandbox + "/disks", api.aliceKey);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.data().get("data");
    }

    /** Polls the sandbox's disks until the mount at {@code path} has {@code status} (60 s under emulation). */
    private JsonNode awaitStatus(String sandbox, String path, String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            for (JsonNode m : mounts(sandbox)) {
                if (m.get("mount_path").asText().equals(path)) {
                    last = m;
                    if (m.get("mount_status").asText().equals(status)) {
                        return m;
                    }
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError("mount " + path + " of " + sandbox + " never became " + status + "; last: " + last);
    }

    private void awaitSandbox(String sandbox, String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (api.get("/v1/sandboxes/" + sandbox, api.aliceKey).data().get("status").asText().equals(status)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(sandbox + " never became " + status);
    }

    /** The trimmed content of a file the guest writes when a background job is done (up to 15 minutes). */
    private String awaitGuestFile(String sandbox, String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode r = sh(sandbox, "cat " + path + " 2>/dev/null");
            if (r.get("exit_code").asInt() == 0 && !r.get("stdout").asText().isBlank()) {
                return r.get("stdout").asText().trim();
            }
            Thread.sleep(3000);
        }
        throw new AssertionError(path + " did not appear in " + sandbox + " within 15 minutes");
    }

    private JsonNode sh(String sandboxId, String script) throws Exception {
        Reply reply = api.post("/v1/sandboxes/" + sandboxId + "/exec", api.aliceKey,
                map("cmd", "bash", "args", List.of("-c", script)));
        assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
        return reply.data().get("result");
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
