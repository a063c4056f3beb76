package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real bin/createos without a server: profiles, config permissions, output and exit codes of refusals. */
class CliOfflineTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private record Run(int rc, String out, String err) {}

    private Run createos(String... args) throws Exception {
        return createosWith(java.util.Map.of(), args);
    }

    private Run createosWith(java.util.Map<String, String> extraEnv, String... args) throws Exception {
        Path cp = dir.resolve("cli.classpath");
        Files.writeString(cp, System.getProperty("java.class.path"));
        Path home = Path.of(System.getenv().getOrDefault("CREATEOS_SANDBOX_HOME", ".."));
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/createos").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("CREATEOS_API_KEY");
        pb.environment().remove("CREATEOS_SANDBOX_API_KEY");
        pb.environment().put("CREATEOS_CLI_CLASSPATH", "@" + cp);
        pb.environment().put("CREATEOS_CONFIG_DIR", dir.resolve("config").toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out, err);
    }

    @Test
    void profilesAreStored0600AndListed() throws Exception {
        Run add = createos("profile", "add", "work", "--token", "sk_test", "--url", "http://127.0.0.1:9", "--shape",
                "s-1vcpu-512mb");
        assertThat(add.rc()).as(add.err()).isZero();
        assertThat(JSON.readTree(add.out()).get("action").asText()).isEqualTo("profile_saved");
        Path config = dir.resolve("config/config.json");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config))).isEqualTo("rw-------");
        assertThat(createos("profile", "add", "other", "--token", "sk_2").rc()).isZero();
        assertThat(createos("profile", "use", "other").rc()).isZero();
        JsonNode list = JSON.readTree(createos("profile", "list").out());
        assertThat(list.findValuesAsText("name")).containsExactly("work", "other");
        assertThat(list.get(1).get("current").asBoolean()).isTrue();
        assertThat(list.get(0).get("shape").asText()).isEqualTo("s-1vcpu-512mb");
        assertThat(createos("profile", "rm", "other").rc()).isZero();
        assertThat(createos("profile", "use", "gone").rc()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    @Test
    void refusalsHaveTheirExitCodesAndJsonErrors() throws Exception {
        Run noKey = createos("sandbox", "ls");
        assertThat(noKey.rc()).isEqualTo(ExitCodes.AUTH);
        JsonNode e = JSON.readTree(noKey.out());
        assertThat(e.at("/error/code").asText()).isEqualTo("auth");
        assertThat(e.at("/error/exit_code").asInt()).isEqualTo(4);

        Run badFlag = createos("sandbox", "ls", "--no-such-flag");
        assertThat(badFlag.rc()).isEqualTo(ExitCodes.USAGE);
        Run badOutput = createos("sandbox", "ls", "-o", "xml");
        assertThat(badOutput.rc()).isEqualTo(ExitCodes.USAGE);
        Run unknownProfile = createos("--profile", "nope", "sandbox", "ls");
        assertThat(unknownProfile.rc()).isEqualTo(ExitCodes.USAGE);
        Run prose = createos("sandbox", "ls", "-o", "table");
        assertThat(prose.rc()).isEqualTo(ExitCodes.AUTH);
        assertThat(prose.out()).isEmpty();
        assertThat(prose.err()).startsWith("error: no API key");
        // A server that is not there: a failure (1) naming the endpoint, not a stack trace.
        Run down = createos("--api-key", "sk_x", "--api-url", "http://127.0.0.1:9", "sandbox", "shapes");
        assertThat(down.rc()).isEqualTo(ExitCodes.FAILURE);
        assertThat(JSON.readTree(down.out()).at("/error/message").asText()).isNotEmpty();
    }

    @Test
    void versionHelpAndCompletion() throws Exception {
        assertThat(createos("--version").out().trim()).isEqualTo("createos 0.1.0");
        Run help = createos("sandbox", "exec", "--help");
        assertThat(help.rc()).isZero();
        assertThat(help.out()).contains("--stdin", "--env", "SANDBOX", "CMD");
        Run bash = createos("completion", "bash");
        assertThat(bash.rc()).isZero();
        assertThat(bash.out()).contains("complete -F", "sandbox", "tunnel");
        assertThat(bash.out()).contains("_createos_sandboxes", "complete -F _sb_complete -o default sb");
        Run fish = createos("completion", "fish");
        assertThat(fish.rc()).isZero();
        assertThat(fish.out()).contains("complete -c createos -n '__createos_at sandbox' -a 'sync'",
                "complete -c createos -n '__createos_at sandbox get' -a '(__createos_sandboxes)'",
                "complete -c sb --wraps 'createos sandbox'", " -l mode -r");
        assertThat(createos("completion", "powershell").rc()).isEqualTo(ExitCodes.USAGE);
    }

    /**
     * {@code sb self} speaks to the guest agent's self-signal endpoint; here a stand-in on loopback answers as the
     * agent does (202), since the CLI does not run inside the guest images. Then the FIFO fallback.
     */
    @Test
    void selfPostsToTheAgentAndFallsBackToTheFifo() throws Exception {
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer agent = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        agent.createContext("/self/", ex -> {
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            ex.sendResponseHeaders(202, -1);
            ex.close();
        });
        agent.start();
        try {
            Run pause = createosWith(java.util.Map.of("CREATEOS_SELF_URL", "http://127.0.0.1:" + agent.getAddress().getPort()),
                    "sandbox", "self", "pause", "--reason", "job done");
            assertThat(pause.rc()).as(pause.err()).isZero();
            JsonNode j = JSON.readTree(pause.out());
            assertThat(j.get("action").asText()).isEqualTo("self_pause");
            assertThat(j.get("via").asText()).isEqualTo("agent");
            assertThat(seen).containsExactly("POST /self/pause?reason=job+done");
        } finally {
            agent.stop(0);
        }
        Path fifo = dir.resolve("self.fifo");
        Files.writeString(fifo, "");
        Run delete = createosWith(java.util.Map.of("CREATEOS_SELF_URL", "http://127.0.0.1:9",
                "CREATEOS_SELF_FIFO", fifo.toString()), "sandbox", "self", "delete");
        assertThat(delete.rc()).as(delete.err()).isZero();
        assertThat(JSON.readTree(delete.out()).get("via").asText()).isEqualTo("fifo");
        assertThat(Files.readString(fifo)).isEqualTo("retire\n");
        Run nowhere = createosWith(java.util.Map.of("CREATEOS_SELF_URL", "http://127.0.0.1:9",
                "CREATEOS_SELF_FIFO", dir.resolve("none").toString()), "sandbox", "self", "pause");
        assertThat(nowhere.rc()).isEqualTo(ExitCodes.FAILURE);
        assertThat(JSON.readTree(nowhere.out()).at("/error/message").asText()).contains("not inside a sandbox");
    }
}
