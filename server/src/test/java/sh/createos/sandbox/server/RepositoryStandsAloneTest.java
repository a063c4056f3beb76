package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 18 item 10: README and server/README pointed at the architecture and the wire contract by a path of a build
 * machine ({@code /work/shared/spec/rest-api.md}, {@code ../../shared/…}), outside the repository. Every Markdown
 * link of a README or a doc of {@code docs/} resolves inside the repository, and no {@code `….md`} path they name is
 * absolute or climbs out of it.
 */
class RepositoryStandsAloneTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#\\s]+)");
    private static final Pattern MD_PATH = Pattern.compile("`([^`\\s]*/[^`\\s]*\\.md)`");

    @Test
    void everyDocumentTheDocsPointToIsInTheRepository() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        assertThat(root.resolve("README.md")).as("the repository root, from the server module").exists();
        List<Path> docs = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("server/README.md")));
        try (Stream<Path> files = Files.list(root.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).forEach(docs::add);
        }
        List<String> outside = new ArrayList<>();
        for (Path doc : docs) {
            String text = Files.readString(doc);
            for (Pattern pattern : List.of(LINK, MD_PATH)) {
                Matcher m = pattern.matcher(text);
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("[a-z]+:.*")) {
                        continue; // a URL
                    }
                    if (pattern == MD_PATH && !target.startsWith("/") && !target.startsWith("..")) {
                        continue; // a file of the repository, or one cited in another (an upstream SDK's docs/…)
                    }
                    Path resolved = target.startsWith("/") ? Path.of(target)
                            : (pattern == LINK ? doc.getParent() : root).resolve(target).normalize();
                    Path nearDoc = doc.getParent().resolve(target).normalize();
                    boolean inside = (resolved.startsWith(root) && Files.exists(resolved))
                            || (!target.startsWith("/") && nearDoc.startsWith(root) && Files.exists(nearDoc));
                    if (!inside) {
                        outside.add(root.relativize(doc) + ": " + target);
                    }
                }
            }
        }
        assertThat(outside).as("references to documents that are not in the repository").isEmpty();
    }
}
