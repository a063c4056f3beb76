package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.disks.S3ProxyServer;
import software.amazon.awssdk.services.s3.S3Client;
import sh.createos.sandbox.server.network.TestNetworks;

/**
 * The official TypeScript SDK ({@code @nodeops-createos/sandbox} from npm, unchanged) against the real server:
 * {@code src/test/sdk/compat.mjs} creates a real sandbox (with a host network of its own, as root) and exercises
 * every call the issue lists.
 */
class SdkCompatibilityTest {
    /** More than one 500-row page, so iterateSandboxes has to fetch a second page. */
    private static final int DESTROYED_ROWS = 503;

    @TempDir
    Path dir;

    @Test
    void theOfficialSdkDrivesTheServer() throws Exception {
        SdkScript.install();
        NetworkConfig network = TestNetworks.config(dir);
        // The disks' S3 server, as an outside host (198.18.232-247.0/24: the disks tests use 216-231).
        try (ExternalHost outside = ExternalHost.start(Map.of(), 232 + ThreadLocalRandom.current().nextInt(16));
             S3ProxyServer s3proxy = S3ProxyServer.start(outside.namespace(), outside.address(2), 9000, dir);
             S3Client s3 = s3proxy.client();
             TestApi api = TestApi.start(dir, true, c -> c.withNetwork(network))) {
            s3.createBucket(b -> b.bucket("compat"));
            SdkScript.storeDestroyedSandboxes(api.server.store(), api.alice, DESTROYED_ROWS);
            SdkScript.Result result = SdkScript.run(List.of("node", "compat.mjs"), SdkScript.compatEnvironment(
                    "http://127.0.0.1:" + api.server.port(), api.aliceKey, DESTROYED_ROWS, s3proxy, "compat"), 300);
            assertThat(result.exitCode()).as("node compat.mjs failed:\n%s", result.output()).isZero();
            assertThat(result.output()).contains("0 failed").doesNotContain("FAIL ");
        } finally {
            TestNetworks.destroy(network);
        }
    }
}
