package sh.createos.sandbox.server.templates;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Dockerfile grammar and its evaluation, without a VM. */
class DockerfileParserTest {

    private static Dockerfile parse(String text) {
        return DockerfileParser.parse(text);
    }

    private static void refused(String text, int line, String fragment) {
        assertThatThrownBy(() -> parse(text)).isInstanceOf(DockerfileException.class)
                .hasMessageContaining(line > 0 ? "line " + line + ":" : "Dockerfile:").hasMessageContaining(fragment)
                .satisfies(e -> assertThat(((DockerfileException) e).line()).isEqualTo(line));
    }

    @Test
    void theV1ShapeOneFromAndRuns() {
        Dockerfile df = parse("FROM nodeops/sandbox:debian\nRUN echo hi > /greeting\nRUN [\"touch\", \"/x\"]\n");
        assertThat(df.from()).isEqualTo("nodeops/sandbox:debian");
        assertThat(df.fromLine()).isEqualTo(1);
        assertThat(df.instructions()).hasSize(2);
        assertThat(df.instructions().get(0).run().argv()).containsExactly("/bin/sh", "-c", "echo hi > /greeting");
        assertThat(df.instructions().get(1).run().argv()).containsExactly("touch", "/x");
        assertThat(df.instructions().get(1).line()).isEqualTo(3);
    }

    @Test
    void continuationsCommentsAndBlankLinesInsideThem() {
        Dockerfile df = parse("""
                # a comment
                FROM devbox:1

                RUN echo one \\
                  # a comment inside the continuation
                    && echo two \\

                    && echo three
                RUN echo 'a\\\\'
                """);
        assertThat(df.instructions()).hasSize(2);
        assertThat(df.instructions().get(0).line()).isEqualTo(4);
        assertThat(df.instructions().get(0).run().argv().get(2)).isEqualTo("echo one     && echo two     && echo three");
        // "\\" at a line's end is an escaped backslash, not a continuation
        assertThat(df.instructions().get(1).run().argv().get(2)).isEqualTo("echo 'a\\\\'");
    }

    @Test
    void escapeDirectiveMakesTheBacktickTheContinuation() {
        Dockerfile df = parse("# escape=`\nFROM devbox:1\nRUN echo a `\n  b\n");
        assertThat(df.instructions().get(0).run().argv().get(2)).isEqualTo("echo a   b");
    }

    @Test
    void envArgWorkdirUserShapeEveryRun() {
        Dockerfile df = parse("""
                ARG BASE=devbox:1
                FROM ${BASE}
                ARG VERSION=1.2
                ENV APP_HOME=/srv/app GREETING="hello world"
                ENV LEGACY value with spaces
                WORKDIR $APP_HOME
                WORKDIR sub/../src
                USER nobody:nogroup
                RUN echo $GREETING
                """);
        assertThat(df.from()).isEqualTo("devbox:1");
        Dockerfile.Run run = df.instructions().get(df.instructions().size() - 1).run();
        assertThat(run.env()).containsEntry("APP_HOME", "/srv/app").containsEntry("GREETING", "hello world")
                .containsEntry("LEGACY", "value with spaces").containsEntry("VERSION", "1.2")
                .doesNotContainKey("BASE"); // an ARG before FROM is for FROM only
        assertThat(run.cwd()).isEqualTo("/srv/app/src");
        assertThat(run.user()).isEqualTo("nobody");
        assertThat(df.config().env()).containsOnlyKeys("APP_HOME", "GREETING", "LEGACY"); // ARGs are not kept
        assertThat(df.config().workdir()).isEqualTo("/srv/app/src");
        assertThat(df.config().user()).isEqualTo("nobody");
    }

    @Test
    void substitutionForms() {
        Dockerfile df = parse("""
                FROM devbox:1
                ARG SET=yes
                ARG EMPTY=
                ENV A=${SET:-no} B=${UNSET:-dflt} C=${SET:+alt} D=${UNSET:+alt} E=${EMPTY:-e} F=${EMPTY-f} G='$SET' H="$SET\\$" I=\\$SET
                """);
        assertThat(df.config().env()).containsExactlyInAnyOrderEntriesOf(Map.of("A", "yes", "B", "dflt", "C", "alt",
                "D", "", "E", "e", "F", "", "G", "$SET", "H", "yes$", "I", "$SET"));
    }

    @Test
    void recordedInstructions() {
        Dockerfile df = parse("""
                FROM devbox:1
                LABEL org.example.team="dev tools" version=2
                EXPOSE 8080 53/udp 9000-9001/tcp
                SHELL ["/bin/bash", "-o", "pipefail", "-c"]
                RUN echo shell form
                CMD ["python3", "-m", "http.server"]
                ENTRYPOINT /usr/bin/env
                """);
        assertThat(df.config().labels()).containsEntry("org.example.team", "dev tools").containsEntry("version", "2");
        assertThat(df.config().exposedPorts()).containsExactly("8080/tcp", "53/udp", "9000-9001/tcp");
        assertThat(df.config().shell()).containsExactly("/bin/bash", "-o", "pipefail", "-c");
        assertThat(df.instructions().stream().filter(Dockerfile.Instruction::isRun).findFirst().orElseThrow().run().argv())
                .containsExactly("/bin/bash", "-o", "pipefail", "-c", "echo shell form");
        assertThat(df.config().cmd()).containsExactly("python3", "-m", "http.server");
        assertThat(df.config().entrypoint()).containsExactly("/bin/bash", "-o", "pipefail", "-c", "/usr/bin/env");
    }

    @Test
    void keywordsAreCaseInsensitiveAndFromMayNameAStage() {
        Dockerfile df = parse("from --platform=linux/amd64 devbox:1 as base\nrun true\n");
        assertThat(df.from()).isEqualTo("devbox:1");
        assertThat(df.instructions().get(0).keyword()).isEqualTo("RUN");
    }

    @Test
    void invalidExecFormIsTheShellForm() {
        Dockerfile df = parse("FROM devbox:1\nRUN [ -d /tmp ] && echo yes\n");
        assertThat(df.instructions().get(0).run().argv()).containsExactly("/bin/sh", "-c", "[ -d /tmp ] && echo yes");
    }

    @Test
    void canonicalTextsChangeWithWhatTheRunSees() {
        List<String> a = parse("FROM devbox:1\nARG V=1\nRUN echo $V\n").instructions().stream()
                .map(Dockerfile.Instruction::canonical).toList();
        List<String> b = parse("FROM devbox:1\nARG V=2\nRUN echo $V\n").instructions().stream()
                .map(Dockerfile.Instruction::canonical).toList();
        assertThat(a.get(1)).isEqualTo(b.get(1)); // the RUN text is the same …
        assertThat(a.get(0)).isNotEqualTo(b.get(0)); // … the ARG before it is not, so the cache key differs
    }

    @Test
    void errorsNameTheLine() {
        refused("", 0, "empty");
        refused("# only a comment\n", 0, "no FROM");
        refused("RUN echo\nFROM devbox:1\n", 1, "before FROM");
        refused("FROM devbox:1\nCOPY . /app\n", 2, "COPY is not supported");
        refused("FROM devbox:1\nRUN true\nADD x y\n", 3, "ADD is not supported");
        refused("FROM devbox:1\nFROM debian:13\n", 2, "multi-stage");
        refused("FROM devbox:1\nVOLUME /data\n", 2, "VOLUME is not supported");
        refused("FROM devbox:1\nFROBNICATE x\n", 2, "unknown instruction FROBNICATE");
        refused("FROM devbox:1\nRUN\n", 2, "needs arguments");
        refused("FROM devbox:1\n\nENV =x\n", 3, "<key>=<value>");
        refused("FROM devbox:1\nENV A=\"unterminated\n", 2, "unterminated double quote");
        refused("FROM devbox:1\nEXPOSE 70000\n", 2, "not a port");
        refused("FROM devbox:1\nSHELL /bin/bash -c\n", 2, "JSON array");
        refused("FROM devbox:1\nRUN --mount=type=cache,target=/x true\n", 2, "RUN flag --mount");
        refused("FROM devbox:1\nRUN <<EOF\n", 2, "heredocs");
        refused("FROM a b\n", 1, "one image");
        refused("FROM devbox:1\nENV A=${B:?x}\n", 2, "bad substitution");
        refused("FROM devbox:1\nUSER two words\n", 2, "USER");
        refused("FROM devbox:1\n123 foo\n", 2, "instruction keyword");
        refused("FROM devbox:1\nRUN echo \\\n  ok\nCOPY a b\n", 4, "COPY");
    }
}
