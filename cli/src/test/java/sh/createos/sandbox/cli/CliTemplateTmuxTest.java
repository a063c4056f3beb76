package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code sb template …} through the real bin/createos against a real server that builds in builder microVMs. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTemplateTmuxTest {
    private static final Duration BUILD = Duration.ofMinutes(10);

    @TempDir
    static Path dir;
    private CliHarness h;

    @BeforeAll
    void start() throws Exception {
        h = new CliHarness(dir);
    }

    @AfterAll
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static List<JsonNode> lines(String out) throws Exception {
        List<JsonNode> l = new ArrayList<>();
        // JSON lines of the followed log, then the indented final action object.
        int action = out.indexOf("{\n");
        for (String line : (action < 0 ? out : out.substring(0, action)).split("\n")) {
            if (!line.isBlank()) {
                l.add(CliHarness.JSON.readTree(line));
            }
        }
        if (action >= 0) {
            l.add(CliHarness.JSON.readTree(out.substring(action)));
        }
        return l;
    }

    @Test
    void buildFollowListGetLogsFailAndDelete() throws Exception {
        Files.writeString(h.work.resolve("Dockerfile"), "FROM devbox:1\nRUN echo cli-built > /marker && echo step-output\n");
        String[] built = h.run("build", "sb template create clitpl --file Dockerfile -f", BUILD);
        List<JsonNode> out = lines(built[1]);
        assertThat(built[0]).as(built[1] + built[2]).isEqualTo("0");
        JsonNode last = out.get(out.size() - 1);
        assertThat(last.get("action").asText()).isEqualTo("built");
        assertThat(last.get("status").asText()).isEqualTo("ready");
        assertThat(out.subList(0, out.size() - 1)).anySatisfy(l -> assertThat(l.get("line").asText()).contains("step-output"));

        assertThat(h.json("ls", "sb template ls").findValuesAsText("name")).contains("clitpl");
        JsonNode got = h.json("get", "sb template get clitpl --dockerfile");
        assertThat(got.get("status").asText()).isEqualTo("ready");
        assertThat(got.get("dockerfile").asText()).contains("RUN echo cli-built");
        String[] logs = h.run("logs", "sb template logs clitpl");
        assertThat(logs[0]).isEqualTo("0");
        assertThat(logs[1]).contains("step-output");

        Files.writeString(h.work.resolve("Broken"), "FROM devbox:1\nRUN echo about to fail; exit 3\n");
        String[] failed = h.run("broken", "sb template create clibroken --file Broken -f", BUILD);
        assertThat(failed[0]).as(failed[1] + failed[2]).isEqualTo("1");
        List<JsonNode> f = lines(failed[1]);
        assertThat(f.get(f.size() - 1).get("action").asText()).isEqualTo("build_failed");

        Files.writeString(h.work.resolve("Empty"), "\n");
        assertThat(h.run("empty", "sb template create e --file Empty")[0]).isEqualTo("2");
        assertThat(h.run("nofile", "sb template create e --file nowhere")[0]).isEqualTo("5");
        assertThat(h.run("copy", "printf 'FROM devbox:1\\nCOPY . /app\\n' | sb template create withcopy --file -")[0])
                .isEqualTo("2");

        assertThat(h.json("rm", "sb template rm clitpl").get("action").asText()).isEqualTo("deleted");
        assertThat(h.run("gone", "sb template get clitpl")[0]).isEqualTo("5");
    }
}
