package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The real agent running on this host in {@code serve --listen unix:PATH} mode, no VM; its stderr goes to agent.log. */
final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path log;

    private AgentProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    static AgentProcess listen(Path dir, String... extraArgs) throws IOException {
        Path socket = dir.resolve("agent.sock");
        Path log = dir.resolve("agent.log");
        List<String> argv = new ArrayList<>(List.of(AgentBinary.get().toString(), "serve", "--listen", "unix:" + socket));
        argv.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true)
                .start();
        return new AgentProcess(process, socket, log);
    }

    long pid() {
        return process.pid();
    }

    Path socket() {
        return socket;
    }

    AgentClient connect() throws IOException {
        try {
            return AgentClient.connect(socket, Duration.ofSeconds(10));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "\nagent log:\n" + log(), e);
        }
    }

    String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
            kill();
        }
    }
}
