package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.model.Template;

/** Which FROMs name a registry's image, the registry setting's forms, and a base config as the parser's start. */
class ImageReferenceTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void aFirstComponentWithADotAColonOrLocalhostIsARegistry() {
        assertThat(ImageReference.parse("127.0.0.1:5000/test/tiny:1")).hasValue(
                new ImageReference("127.0.0.1:5000", "test/tiny", "1", null));
        assertThat(ImageReference.parse("Registry.Example.com/team/app")).hasValue(
                new ImageReference("registry.example.com", "team/app", "latest", null));
        assertThat(ImageReference.parse("localhost/app@" + DIGEST).orElseThrow().toString())
                .isEqualTo("localhost/app@" + DIGEST);
        assertThat(ImageReference.parse("r.io/app:2@" + DIGEST).orElseThrow().toString()).isEqualTo("r.io/app@"
                + DIGEST);
    }

    @Test
    void catalogNamesAndAliasesAreNoRegistryReferences() {
        assertThat(ImageReference.parse("devbox:1")).isEmpty();
        assertThat(ImageReference.parse("nodeops/sandbox:debian")).isEmpty();
        assertThat(ImageReference.parse("my-template")).isEmpty();
    }

    @Test
    void aBadReferenceOfARegistryIsRefused() {
        assertThatThrownBy(() -> ImageReference.parse("r.io/Upper/Case:1"))
                .hasMessageContaining("is not an image reference");
        assertThatThrownBy(() -> ImageReference.parse("r.io/app:1@sha256:short"))
                .hasMessageContaining("is not an image reference");
    }

    @Test
    void registriesAreHostPortOrPlainHttp() {
        Map<String, TemplateSettings.Registry> r = TemplateSettings.registries(
                " registry.example.com , http://127.0.0.1:5000/,https://r.io:443");
        assertThat(r).containsOnlyKeys("registry.example.com", "127.0.0.1:5000", "r.io:443");
        assertThat(r.get("127.0.0.1:5000").plainHttp()).isTrue();
        assertThat(r.get("registry.example.com").plainHttp()).isFalse();
        assertThatThrownBy(() -> TemplateSettings.registries("http://a b")).hasMessageContaining("is not HOST[:PORT]");
    }

    @Test
    void aBaseConfigIsWhereTheDockerfileStarts() {
        Template.ImageConfig base = new Template.ImageConfig(Map.of("PATH", "/bin", "A", "1"), "/work", "app",
                List.of("/bin/sh"), null, List.of("80/tcp"), Map.of(), null);
        Dockerfile d = DockerfileParser.parse("FROM r.io/app:1\nENV B=$A-2\nWORKDIR sub\nRUN true\n", base);
        assertThat(d.config().env()).containsEntry("PATH", "/bin").containsEntry("B", "1-2");
        assertThat(d.config().workdir()).isEqualTo("/work/sub");
        assertThat(d.config().user()).isEqualTo("app");
        assertThat(d.config().cmd()).containsExactly("/bin/sh");
        Dockerfile.Run run = d.instructions().get(2).run();
        assertThat(run.env()).containsEntry("PATH", "/bin");
        assertThat(run.cwd()).isEqualTo("/work/sub");
        assertThat(run.user()).isEqualTo("app");
    }
}
