package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.proc.Command;

/**
 * Issue 18: QemuVm.resizeDisk waited forever for {@code resize2fs} after the agent stopped answering. A stopped
 * (SIGSTOP) agent keeps its socket open and says nothing, exactly like a guest whose agent is gone.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentDeadlineTest {
    @TempDir
    Path dir;

    @Test
    void aCallToAnAgentThatStoppedAnsweringFailsAtItsDeadline() throws Exception {
        AgentProcess agent = AgentProcess.listen(dir);
        try (AgentClient client = agent.connect()) {
            assertThat(client.run(ExecRequest.of("echo", "alive"), Duration.ofSeconds(20)).stdout())
                    .isEqualTo("alive\n");
            long pid = agent.pid();
            Command.of("kill", "-STOP", Long.toString(pid)).run();
            try {
                long started = System.nanoTime();
                assertThatThrownBy(() -> client.run(ExecRequest.of("true"), Duration.ofSeconds(2)))
                        .isInstanceOf(IOException.class).hasMessageContaining("did not finish within 2 s");
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            } finally {
                Command.of("kill", "-CONT", Long.toString(pid)).run();
            }
        } finally {
            agent.close();
        }
    }
}
