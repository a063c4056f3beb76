package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.SdkScript;
import sh.createos.sandbox.server.disks.S3ProxyServer;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The official TypeScript SDK's compatibility script ({@code src/test/sdk/compat.mjs}, the one
 * {@code SdkCompatibilityTest} runs against the embedded server) unchanged against the replicated two-machine setup
 * ({@link TwoMachines}): it talks to replica A while replica B serves the same PostgreSQL database beside it, and
 * its sandboxes run on the host daemons in their own network namespaces, so every call it makes (exec, files,
 * ingress, egress, networks, S3 disks mounted in the guest, pause, fork, resume) crosses the gRPC seam.
 */
class SdkOnReplicasTest {
    private static final int DESTROYED_ROWS = 503;

    @TempDir
    Path dir;

    @Test
    void theOfficialSdkDrivesReplicatedControlPlanesOverTwoMachines() throws Exception {
        SdkScript.install();
        // The disks' S3 server, as an outside host (198.18.248-255.0/24: the other disks tests use 216-247).
        try (ExternalHost outside = ExternalHost.start(Map.of(), 248 + ThreadLocalRandom.current().nextInt(8));
             S3ProxyServer s3proxy = S3ProxyServer.start(outside.namespace(), outside.address(2), 9000, dir);
             S3Client s3 = s3proxy.client();
             TwoMachines machines = TwoMachines.start(dir, "sdk-on-replicas-logs")) {
            s3.createBucket(bucket -> bucket.bucket("compat"));
            ReplicaCalls calls = new ReplicaCalls();
            String userId = calls.call("GET", machines.a.url() + "/v1/whoami", machines.key, null).data()
                    .get("user_id").asText();
            try (JdbcStore store = machines.store()) {
                User user = store.user(userId).orElseThrow();
                SdkScript.storeDestroyedSandboxes(store, user, DESTROYED_ROWS);
            }

            SdkScript.Result result = SdkScript.run(List.of("node", "compat.mjs"),
                    SdkScript.compatEnvironment(machines.a.url(), machines.key, DESTROYED_ROWS, s3proxy, "compat"), 600);
            assertThat(result.exitCode()).as("node compat.mjs failed:\n%s\n--- replica a ---\n%s",
                    result.output(), machines.a.logExcerpt()).isZero();
            assertThat(result.output()).contains("0 failed").doesNotContain("FAIL ");

            // Its sandboxes (the one it made and its fork) ran on the machines; the replicas have no VMs of their own.
            try (JdbcStore store = machines.store()) {
                List<SandboxRecord> made = store.sandboxes(userId, SandboxStatus.DESTROYED, 1000, 0).stream()
                        .filter(s -> s.name() == null || !s.name().startsWith("old-")).toList();
                assertThat(made).as("the sandboxes compat.mjs made").hasSizeGreaterThanOrEqualTo(2);
                assertThat(made).extracting(SandboxRecord::hostId).as("their hosts").isSubsetOf("h1", "h2");
            }
        }
    }
}
