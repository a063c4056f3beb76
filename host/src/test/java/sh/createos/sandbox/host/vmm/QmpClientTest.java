package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real QEMU with no guest (-M none): fast, and it speaks the same QMP as a VM's VMM. */
class QmpClientTest {
    @TempDir
    Path tmp;

    private Process qemu;
    private Path socket;

    @BeforeEach
    void startQemu() throws Exception {
        socket = tmp.resolve("qmp.sock");
        qemu = new ProcessBuilder(QemuCommandLine.BINARY, "-M", "none", "-nodefaults", "-display", "none",
                "-chardev", "socket,id=qmp,path=" + socket + ",server=on,wait=off", "-mon", "chardev=qmp,mode=control")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("qemu.out").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(socket)) {
            assertThat(qemu.isAlive()).as("qemu is running: %s", Files.readString(tmp.resolve("qemu.out"))).isTrue();
            assertThat(System.nanoTime()).as("QMP socket appears within 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @AfterEach
    void stopQemu() throws Exception {
        qemu.destroyForcibly().waitFor();
    }

    @Test
    void executesCommandsAndReturnsTheirResult() throws Exception {
        try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(10))) {
            assertThat(qmp.execute("query-status").path("status").asText()).isEqualTo("running");
            assertThat(qmp.execute("query-version").path("qemu").path("major").asInt()).isGreaterThanOrEqualTo(7);
        }
    }

    @Test
    void errorAnswerBecomesQmpExceptionNamingTheCommand() throws Exception {
        try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> qmp.execute("block_resize", Map.of("device", "nosuchdrive", "size", 1024)))
                    .isInstanceOfSatisfying(QmpException.class, e -> assertThat(e.errorClass()).isNotBlank())
                    .hasMessageContaining("block_resize")
                    .hasMessageContaining("nosuchdrive");
            assertThat(qmp.execute("query-status").path("status").asText())
                    .as("the connection survives an error").isEqualTo("running");
        }
    }

    @Test
    void deliversAsynchronousEvents() throws Exception {
        BlockingQueue<QmpEvent> events = new LinkedBlockingQueue<>();
        try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(10))) {
            qmp.onEvent(events::add);
            qmp.execute("stop");
            qmp.execute("cont");
            assertThat(events.poll(10, TimeUnit.SECONDS)).extracting(QmpEvent::name).isEqualTo("STOP");
            assertThat(events.poll(10, TimeUnit.SECONDS)).extracting(QmpEvent::name).isEqualTo("RESUME");
        }
    }

    @Test
    void quitEndsQemuAndFailsLaterCommands() throws Exception {
        try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(10))) {
            qmp.execute("quit");
            assertThat(qemu.waitFor(10, TimeUnit.SECONDS)).as("qemu exited").isTrue();
            assertThatThrownBy(() -> qmp.execute("query-status")).isInstanceOf(IOException.class)
                    .hasMessageContaining(socket.toString());
            assertThat(qmp.isOpen()).isFalse();
        }
    }

    @Test
    void connectingToAMissingSocketNamesIt() {
        Path missing = tmp.resolve("missing.sock");
        assertThatThrownBy(() -> QmpClient.connect(missing, Duration.ofSeconds(1)))
                .isInstanceOf(IOException.class).hasMessageContaining(missing.toString());
    }
}
