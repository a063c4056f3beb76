package sh.createos.sandbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.server.ServerProcess;

/**
 * A real server (child JVM) and a private tmux whose bash windows have the real {@code bin/createos} on PATH as
 * {@code sb}, configured for that server; for the CLI test classes that came after {@link CliTmuxTest}.
 */
final class CliHarness implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration CMD = Duration.ofSeconds(180);

    final ServerProcess server;
    final Tmux tmux;
    final Path work;
    final Map<String, String> env;

    CliHarness(Path dir) throws Exception {
        this(dir, Map.of());
    }

    /** With {@code serve} options over the test defaults (e.g. an SSH gateway). */
    CliHarness(Path dir, Map<String, String> serveOptions) throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Files.createSymbolicLink(data.resolve("kit"), DataDir.fromEnvironment().resolve("kit"));
        server = ServerProcess.start(data, List.of(), serveOptions);
        work = Files.createDirectories(dir.resolve("work"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path home = Path.of(System.getProperty("maven.multiModuleProjectDirectory",
                System.getenv().getOrDefault("CREATEOS_SANDBOX_HOME", "..")));
        Files.createSymbolicLink(bin.resolve("sb"), home.resolve("bin/createos").toAbsolutePath());
        Files.createSymbolicLink(bin.resolve("createos"), home.resolve("bin/createos").toAbsolutePath());
        Path classpath = dir.resolve("cli.classpath");
        Files.writeString(classpath, System.getProperty("java.class.path"));
        env = Map.of("PATH", bin + ":/usr/local/bin:/usr/bin:/bin",
                "CREATEOS_SANDBOX_URL", server.baseUrl(),
                "CREATEOS_API_KEY", server.apiKey,
                "CREATEOS_CLI_CLASSPATH", "@" + classpath,
                "CREATEOS_CONFIG_DIR", dir.resolve("config").toString(),
                "JAVA_HOME", System.getProperty("java.home"),
                "HOME", dir.resolve("home").toString(),
                "TERM", "xterm-256color", "CREATEOS_DEBUG", "1");
        Files.createDirectories(dir.resolve("home"));
        tmux = new Tmux(env, work);
    }

    /** A command line in the main window, stdout and stderr to files: [exit status, stdout, stderr]. */
    String[] run(String tag, String line) throws Exception {
        return run(tag, line, CMD);
    }

    String[] run(String tag, String line, Duration timeout) throws Exception {
        Files.deleteIfExists(work.resolve(tag + ".rc"));
        tmux.type("main", "(" + line + ") > " + tag + ".out 2> " + tag + ".err; echo $? > " + tag + ".rc");
        String rc = Tmux.awaitFile(work.resolve(tag + ".rc"), timeout);
        return new String[] {rc, Files.readString(work.resolve(tag + ".out")), Files.readString(work.resolve(tag + ".err"))};
    }

    /** Like {@link #run}, failing with stderr unless it exits 0; the parsed JSON of stdout. */
    JsonNode json(String tag, String line) throws Exception {
        String[] r = run(tag, line);
        if (!r[0].equals("0")) {
            throw new AssertionError(line + " exited " + r[0] + ":\n" + r[1] + r[2]);
        }
        return JSON.readTree(r[1]);
    }

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The JSON lines a long-running command wrote to a file so far. */
    static List<JsonNode> jsonLines(Path f) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(f)) {
            return out;
        }
        for (String line : Files.readAllLines(f)) {
            if (line.startsWith("{") && line.endsWith("}")) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        try {
            tmux.close();
            destroySandboxes();
        } finally {
            server.close();
        }
    }

    /**
     * Destroys what the test left and waits until it is gone: a stopped server's VMs run on (they outlive a control
     * plane by design), and nothing else would end them (CI found the desktop test's VM running afterwards).
     */
    private void destroySandboxes() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + CMD.toNanos();
        while (true) {
            HttpResponse<String> list = http.send(request("/v1/sandboxes?limit=100").GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            List<JsonNode> live = new ArrayList<>();
            for (JsonNode sandbox : JSON.readTree(list.body()).at("/data/data")) {
                if (!Set.of("destroyed", "failed").contains(sandbox.get("status").asText())) {
                    live.add(sandbox);
                }
            }
            if (live.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sandboxes the test left are not gone after " + CMD + ": " + live);
            }
            for (JsonNode sandbox : live) {
                if (!sandbox.get("status").asText().equals("destroying")) {
                    http.send(request("/v1/sandboxes/" + sandbox.get("id").asText()).DELETE().build(),
                            HttpResponse.BodyHandlers.discarding());
                }
            }
            Thread.sleep(250);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .header("Authorization", "Bearer " + server.apiKey);
    }
}
