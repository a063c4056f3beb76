package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.network.TestNetworks;

/**
 * The guest-side steps of the official SDK's examples that need Bun or Node.js >= 22 in the sandbox (33-codex-cli,
 * 34-openclaw-gateway, 46-mastra-agent, 47-effective-agents-patterns, 58-moss-voice-agent-worker's step form), run
 * by {@code src/test/sdk/examples.mjs} with the official TypeScript SDK against a real server and one devbox:1
 * sandbox that installs their packages from the npm registry. The script names, per step, where an example needs
 * more than npm (an API key, bun.sh, NodeSource) and stops there. First it reads the catalog those examples pick
 * devbox:1 from ({@code GET /v1/rootfs}: every image described, a retired one naming a listed successor).
 */
class SdkExamplesTest {
    @TempDir
    Path dir;

    @Test
    void theExamplesGuestStepsRunOnDevbox() throws Exception {
        SdkScript.install();
        NetworkConfig network = TestNetworks.config(dir);
        try (TestApi api = TestApi.start(dir, true, c -> c.withNetwork(network))) {
            // The script took 4.5 min at a load average of 25 on 2 cores, 3.5 min at 20: 300 s was too tight.
            SdkScript.Result result = SdkScript.run(List.of("node", "examples.mjs"), Map.of(
                    "CREATEOS_SANDBOX_BASE_URL", "http://127.0.0.1:" + api.server.port(),
                    "CREATEOS_SANDBOX_API_KEY", api.aliceKey), 480);
            assertThat(result.exitCode()).as("node examples.mjs failed:\n%s", result.output()).isZero();
            assertThat(result.output()).contains("examples: 5 passed, 0 failed").doesNotContain("FAIL ");
        } finally {
            TestNetworks.destroy(network);
        }
    }
}
