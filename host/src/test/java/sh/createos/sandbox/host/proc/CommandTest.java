package sh.createos.sandbox.host.proc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CommandTest {

    @Test
    void capturesStdoutAndStderr() throws Exception {
        Command.Result result = Command.of("sh", "-c", "echo out; echo err >&2").run();
        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).isEqualTo("err\n");
    }

    @Test
    void failureNamesCommandExitCodeAndStderr() {
        assertThatThrownBy(() -> Command.of("sh", "-c", "echo broken disk >&2; exit 3").run())
                .isInstanceOfSatisfying(CommandFailedException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(3);
                    assertThat(e.stderr()).isEqualTo("broken disk\n");
                    assertThat(e.command()).containsExactly("sh", "-c", "echo broken disk >&2; exit 3");
                })
                .hasMessageContaining("sh -c 'echo broken disk >&2; exit 3'")
                .hasMessageContaining("exit code 3")
                .hasMessageContaining("broken disk");
    }

    @Test
    void missingProgramIsACommandFailure() {
        assertThatThrownBy(() -> Command.of("/nonexistent/program", "x").run())
                .isInstanceOf(CommandFailedException.class)
                .hasMessageContaining("/nonexistent/program");
    }

    @Test
    void timeoutKillsTheProcess() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> Command.of("sleep", "30").timeout(Duration.ofMillis(300)).run())
                .isInstanceOfSatisfying(CommandFailedException.class, e -> assertThat(e.exitCode()).isEqualTo(-1))
                .hasMessageContaining("`sleep 30` timed out");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void backgroundChildHoldingThePipesDoesNotHang() throws Exception {
        long start = System.nanoTime();
        Command.Result result = Command.of("sh", "-c", "sleep 20 & echo started").run();
        assertThat(result.stdout()).isEqualTo("started\n");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void toolsWriteFilesForTheOwnerOnly() throws Exception {
        // Issue 18: QEMU's memory snapshots and qemu-img's overlays were 0644 (they hold guest memory and disks).
        assertThat(Command.of("sh", "-c", "umask").run().stdout()).isEqualTo("0077\n");
        assertThat(Command.of("echo", "keeps", "its", "argv").run().stdout()).isEqualTo("keeps its argv\n");
    }
}
