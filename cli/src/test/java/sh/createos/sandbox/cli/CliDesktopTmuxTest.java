package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code sb computer …} and {@code sb desktop} through the real bin/createos against a real desktop:1 sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliDesktopTmuxTest {
    private static final String NAME = "clidesk";

    @TempDir
    static Path dir;
    private CliHarness h;

    @BeforeAll
    void start() throws Exception {
        h = new CliHarness(dir);
        JsonNode c = h.json("create", "sb create --shape s-1vcpu-1gb --rootfs desktop:1 --name " + NAME);
        assertThat(c.at("/sandbox/rootfs").asText()).isEqualTo("desktop:1");
    }

    @AfterAll
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void screenshotMouseKeyboardWindowsAndTheNoVncLink() throws Exception {
        // The first verb waits for the desktop to start (a minute or more under TCG).
        JsonNode screen = h.json("screen", "sb computer screen " + NAME + " --timeout 600");
        assertThat(screen.get("width").asInt()).isPositive();
        JsonNode shot = h.json("shot", "sb computer screenshot " + NAME + " --file shot.png");
        assertThat(shot.get("action").asText()).isEqualTo("screenshot");
        byte[] png = Files.readAllBytes(h.work.resolve("shot.png"));
        assertThat(png.length).isEqualTo(shot.get("bytes").asInt());
        assertThat(new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
        JsonNode windows = h.json("windows", "sb computer windows " + NAME);
        assertThat(windows.isArray()).isTrue();
        assertThat(windows.findValuesAsText("id")).isNotEmpty();
        assertThat(h.json("move", "sb computer move " + NAME + " 50 60").get("action").asText()).isEqualTo("moved");
        assertThat(h.json("click", "sb computer click " + NAME + " 50 60").get("x").asInt()).isEqualTo(50);
        assertThat(h.json("type", "sb computer type " + NAME + " hello").get("chars").asInt()).isEqualTo(5);
        assertThat(h.json("key", "sb computer key " + NAME + " ctrl+Escape").get("keys").toString())
                .isEqualTo("[\"ctrl\",\"Escape\"]");
        assertThat(h.run("clickbad", "sb computer click " + NAME + " 5")[0]).isEqualTo("2");

        JsonNode desk = h.json("desktop", "sb desktop " + NAME);
        assertThat(desk.get("action").asText()).isEqualTo("desktop");
        assertThat(desk.at("/link/token").asText()).isNotEmpty();
        assertThat(desk.at("/link/path").asText()).contains(desk.at("/link/token").asText());
        assertThat(h.json("get", "sb get " + NAME).get("ingress_enabled").asBoolean()).isTrue();
    }
}
