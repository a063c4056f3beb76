package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What keys a cached build step, and the build policy's settings; no VM. */
class BuildCacheTest {
    private static List<String> keys(String user, String base, String dockerfile) {
        return BuildCache.keys(user, base, "file-v1", "1/512/2924", DockerfileParser.parse(dockerfile).instructions());
    }

    @Test
    void anUnchangedPrefixKeepsItsKeysAndAChangedStepChangesEveryKeyAfterIt() {
        List<String> a = keys("u1", "devbox:1", "FROM devbox:1\nRUN echo one\nRUN echo two\nRUN echo three\n");
        List<String> b = keys("u1", "devbox:1", "FROM devbox:1\nRUN echo one\nRUN echo TWO\nRUN echo three\n");
        assertThat(a).hasSize(4);
        assertThat(b.subList(0, 2)).isEqualTo(a.subList(0, 2));
        assertThat(b.get(2)).isNotEqualTo(a.get(2));
        assertThat(b.get(3)).isNotEqualTo(a.get(3)); // same text, but after a changed step
    }

    @Test
    void formattingThatDoesNotChangeTheInstructionKeepsTheKey() {
        assertThat(keys("u1", "devbox:1", "FROM devbox:1\n# a comment\nRUN echo one\n"))
                .isEqualTo(keys("u1", "devbox:1", "from devbox:1\n\nrun echo one\n"));
    }

    @Test
    void theUserTheBaseAndArgValuesAreInTheKey() {
        String file = "FROM devbox:1\nARG V=1\nRUN echo $V\n";
        List<String> a = keys("u1", "devbox:1", file);
        assertThat(keys("u2", "devbox:1", file).get(2)).isNotEqualTo(a.get(2));
        assertThat(keys("u1", "debian:13", file).get(2)).isNotEqualTo(a.get(2));
        assertThat(keys("u1", "devbox:1", file.replace("V=1", "V=2")).get(2)).isNotEqualTo(a.get(2));
        assertThat(BuildCache.keys("u1", "devbox:1", "file-v2", "1/512/2924",
                DockerfileParser.parse(file).instructions()).get(2)).isNotEqualTo(a.get(2));
    }

    @Test
    void settingsComeFromTheEnvironmentWithinBounds() {
        TemplateSettings s = TemplateSettings.from(Map.of("CREATEOS_SANDBOX_TEMPLATE_BUILDS", "2",
                "CREATEOS_SANDBOX_TEMPLATE_TIMEOUT_SECONDS", "60", "CREATEOS_SANDBOX_TEMPLATE_NETWORK", "false"));
        assertThat(s.builds()).isEqualTo(2);
        assertThat(s.timeout().toSeconds()).isEqualTo(60);
        assertThat(s.network()).isFalse();
        assertThat(s.diskMib()).isEqualTo(TemplateSettings.DEFAULTS.diskMib());
        assertThatThrownBy(() -> TemplateSettings.from(Map.of("CREATEOS_SANDBOX_TEMPLATE_BUILDS", "0")))
                .hasMessageContaining("builds must be a number from 1");
    }
}
