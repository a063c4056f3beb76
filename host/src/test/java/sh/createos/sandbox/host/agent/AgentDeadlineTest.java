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

    /** Issue 18 item 9: every request has a deadline, not only run(request, deadline). */
    @Test
    void everyRequestToAnAgentThatStoppedAnsweringFailsAtTheAnswerTimeout() throws Exception {
        AgentProcess agent = AgentProcess.listen(dir);
        try (AgentClient client = agent.connect()) {
            client.answerTimeout(Duration.ofSeconds(1));
            assertThat(client.stat("/").type()).isNotNull();
            long pid = agent.pid();
            Command.of("kill", "-STOP", Long.toString(pid)).run();
            try {
                assertThatThrownBy(() -> client.exec(ExecRequest.of("true")))
                        .isInstanceOf(AgentTimeoutException.class).hasMessageContaining("did not answer within 1000 ms");
                assertThatThrownBy(() -> client.stat("/"))
                        .isInstanceOf(AgentTimeoutException.class).hasMessageContaining("stat /");
                assertThatThrownBy(() -> client.list("/"))
                        .isInstanceOf(AgentTimeoutException.class).hasMessageContaining("list /");
                // More than the agent's window and the socket's buffers: the upload waits for window or its write
                // blocks, and either ends at the timeout instead of holding every later call behind it.
                assertThatThrownBy(() -> client.writeFile(dir.resolve("big").toString(),
                        new java.io.ByteArrayInputStream(new byte[16 << 20]), 0644)).isInstanceOf(IOException.class);
                assertThatThrownBy(() -> client.stat("/")).isInstanceOf(IOException.class);
            } finally {
                Command.of("kill", "-CONT", Long.toString(pid)).run();
            }
        } finally {
            agent.close();
        }
    }

    /** A lost agent (its guest closed the port) fails the calls waiting on it at once, not at a deadline. */
    @Test
    void aLostAgentFailsEveryWaitingCallAtOnce() throws Exception {
        AgentProcess agent = AgentProcess.listen(dir);
        try (AgentClient client = agent.connect()) {
            client.answerTimeout(Duration.ofMinutes(10)); // so that only the loss can end the waits in time
            ExecSession sleeping = client.exec(ExecRequest.of("sleep", "600"));
            client.lost("its port closed");
            assertThatThrownBy(sleeping::waitFor).hasMessageContaining("its port closed");
            assertThatThrownBy(() -> client.stat("/")).hasMessageContaining("its port closed");
            assertThat(client.isOpen()).isFalse();
        } finally {
            agent.close();
        }
    }
}
