package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;

/** Boots each image of the catalog and checks what its catalog entry promises is really inside. */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ImageCatalogTest {

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void devboxHasTheToolsTheOfficialExamplesUse() throws IOException {
        try (Booted box = boot("devbox", "devbox:1")) {
            assertThat(box.sh("node --version")).matches("v(\\d+)\\..*\\n")
                    .satisfies(v -> assertThat(Integer.parseInt(v.substring(1, v.indexOf('.')))).isGreaterThanOrEqualTo(22));
            assertThat(box.sh("npm --version")).matches("\\d+\\.\\d+\\.\\d+\\n");
            assertThat(box.sh("bun --version")).matches("1\\.\\d+\\.\\d+\\n");
            // Bun really runs TypeScript, and npm really installs into a project.
            assertThat(box.sh("cd /tmp && printf 'const n: number = 6 * 7; console.log(n)' > a.ts && bun a.ts"))
                    .isEqualTo("42\n");
            assertThat(box.sh("python3 -m pip --version")).startsWith("pip ");
            assertThat(box.sh("git --version")).startsWith("git version");
            assertThat(box.sh("gcc --version | head -n 1")).contains("gcc");
            assertThat(box.sh("command -v claude codex gemini")).contains("/claude").contains("/codex").contains("/gemini");
            assertThat(box.sh("codex --version")).containsIgnoringCase("codex");
            // sshd is there but not started, and the image carries no host keys: every sandbox makes its own.
            assertThat(box.sh("ls /etc/ssh/ssh_host_* 2>/dev/null | wc -l")).isEqualTo("0\n");
            assertThat(box.sh("pgrep -x sshd || echo none")).isEqualTo("none\n");
            assertThat(box.sh("ssh-keygen -A >/dev/null && mkdir -p /run/sshd && /usr/sbin/sshd -t && echo ok"))
                    .isEqualTo("ok\n");
        }
    }

    @Test
    void debian13IsTrixie() throws IOException {
        try (Booted box = boot("trixie", "debian:13")) {
            assertThat(box.sh(". /etc/os-release && echo $VERSION_ID $VERSION_CODENAME")).isEqualTo("13 trixie\n");
            assertThat(box.sh("python3 -c 'print(1 + 1)'")).isEqualTo("2\n");
            assertThat(box.sh("curl --version | head -n 1")).startsWith("curl ");
        }
    }

    private static Booted boot(String name, String image) throws IOException {
        return new Booted(TestVms.vmm().boot(TestVms.spec(name, image, 1, 512)));
    }

    /** A booted VM that is destroyed at the end of the test. */
    private record Booted(Vm vm) implements AutoCloseable {
        String sh(String script) throws IOException {
            ExecResult result = vm.agent().run(ExecRequest.of("bash", "-lc", script));
            assertThat(result.exitCode()).as("exit code of %s (stderr: %s)", script, result.stderr()).isZero();
            return result.stdout();
        }

        @Override
        public void close() throws IOException {
            vm.destroy();
        }
    }
}
