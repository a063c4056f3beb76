package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** connect() without an agent: it must give up at the timeout and say which socket and why. */
class AgentConnectTest {

    @Test
    void missingSocketTimesOutNamingTheSocketAndTheLastError(@TempDir Path dir) {
        Path socket = dir.resolve("agent.sock");
        long start = System.nanoTime();
        assertThatThrownBy(() -> AgentClient.connect(socket, Duration.ofMillis(500)))
                .hasMessageContaining("unix:" + socket)
                .hasMessageContaining("did not answer within PT0.5S")
                .hasMessageContaining("last error");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(450), Duration.ofSeconds(3));
    }

    @Test
    void listenerThatNeverAnswersHelloTimesOut(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket)); // accepts into the backlog, never answers
            assertThatThrownBy(() -> AgentClient.connect(socket, Duration.ofMillis(700)))
                    .hasMessageContaining("unix:" + socket)
                    .hasMessageContaining("no HELLO answer");
        }
    }
}
