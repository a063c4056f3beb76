package sh.createos.sandbox.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.SandboxClient;
import sh.createos.sandbox.sdk.Templates;

/** {@code sb template}: custom root file systems built from a Dockerfile (rest-api.md §12). */
@Command(name = "template", aliases = "tpl", mixinStandardHelpOptions = true,
        description = {"Custom root file systems built from a Dockerfile; a ready template's name or id is a",
                "--rootfs for `sb create`. TEMPLATE is an id or a name (the newest template of that name)."})
final class TemplateCommand {
    static final List<Output.Column<Templates.Template>> COLUMNS = List.of(
            new Output.Column<>("ID", Templates.Template::id, false),
            new Output.Column<>("NAME", Templates.Template::name, false),
            new Output.Column<>("STATUS", Templates.Template::status, false),
            new Output.Column<>("BASE", Templates.Template::base, false),
            new Output.Column<>("SIZE", t -> t.ext4SizeBytes() == 0 ? null : Progress.human(t.ext4SizeBytes()), false),
            new Output.Column<>("CREATED", Templates.Template::createdAt, true),
            new Output.Column<>("BUILT", Templates.Template::builtAt, true));

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List templates.")
    int list() {
        try (SandboxClient c = CreateosCli.client()) {
            List<Templates.Template> rows = new ArrayList<>();
            c.templates().list().forEach(rows::add);
            Output.rows(rows, COLUMNS, rows);
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a template.")
    int get(@Parameters(paramLabel = "TEMPLATE") String ref,
            @Option(names = "--dockerfile", description = "include its Dockerfile") boolean dockerfile) {
        try (SandboxClient c = CreateosCli.client()) {
            Templates.Template t = c.templates().get(ref, dockerfile);
            if (!Globals.structured() && dockerfile && t.dockerfile() != null) {
                Output.rows(List.of(t), COLUMNS, t);
                Output.out().println();
                Output.out().print(t.dockerfile());
                Output.out().flush();
                return 0;
            }
            Output.rows(List.of(t), COLUMNS, t);
            return 0;
        }
    }

    @Command(name = "create", aliases = "build", mixinStandardHelpOptions = true,
            description = {"Submit a build from a Dockerfile (one FROM of an allowed base, RUN steps; no COPY/ADD).",
                    "With -f/--follow the build log streams until it ends: exit 0 when ready, 1 when failed."})
    int create(@Parameters(paramLabel = "NAME", description = "lower case letters, digits and dashes") String name,
               @Option(names = {"--file", "--dockerfile"}, required = true, paramLabel = "DOCKERFILE",
                       description = "the Dockerfile (- for stdin)") String file,
               @Option(names = "--base", paramLabel = "ROOTFS", description = "the base image (else the server's default)") String base,
               @Option(names = {"-f", "--follow"}, description = "follow the build log until it ends") boolean follow)
            throws Exception {
        String dockerfile = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : readFile(file);
        if (dockerfile.isBlank()) {
            throw new CliException(ExitCodes.USAGE, "the Dockerfile " + file + " is empty");
        }
        try (SandboxClient c = CreateosCli.client()) {
            Templates.Template t = c.templates().create(name, dockerfile, base);
            if (!follow) {
                Output.action("created", Map.of("id", t.id(), "template", t),
                        "Submitted template " + t.id() + " (" + name + "), " + t.status()
                                + "; follow it with `sb template logs " + name + " -f`");
                return 0;
            }
            if (!Globals.structured()) {
                System.err.println("Submitted template " + t.id() + " (" + name + ")");
            }
            return follow(c, t.id());
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = {"Print a template's build log; -f follows it until the build ends",
                    "(exit 0 when ready, 1 when failed)."})
    int logs(@Parameters(paramLabel = "TEMPLATE") String ref,
             @Option(names = {"-f", "--follow"}, description = "follow until the build ends") boolean follow) {
        try (SandboxClient c = CreateosCli.client()) {
            if (!follow) {
                Output.out().print(c.templates().logs(ref));
                Output.out().flush();
                return 0;
            }
            return follow(c, ref);
        }
    }

    @Command(name = "rm", aliases = "delete", mixinStandardHelpOptions = true,
            description = "Delete a template (sandboxes built from it keep working).")
    int rm(@Parameters(paramLabel = "TEMPLATE") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            c.templates().delete(ref);
            Output.action("deleted", Map.of("id", ref), "Deleted template " + ref);
            return 0;
        }
    }

    /** Streams the build log (a spinner until the first line on a terminal); the exit code says how it ended. */
    private static int follow(SandboxClient c, String ref) {
        String status = null;
        try (Templates.LogStream stream = c.templates().followLogs(ref);
             Progress spinner = new Progress("building " + ref, -1)) {
            boolean printed = false;
            while (stream.hasNext()) {
                Templates.LogEvent e = stream.next();
                if (Boolean.TRUE.equals(e.final_())) {
                    status = e.status();
                    break;
                }
                if (e.line() == null) {
                    if (!printed) {
                        spinner.tick();
                    }
                    continue;
                }
                if (!printed) {
                    spinner.close();
                    printed = true;
                }
                String line = e.line().endsWith("\n") ? e.line().substring(0, e.line().length() - 1) : e.line();
                if (Globals.structured()) {
                    Output.out().println("{\"line\":" + jsonString(line) + "}");
                } else {
                    Output.out().println(line);
                }
                Output.out().flush();
            }
        }
        if (status == null) {
            status = c.templates().get(ref).status(); // the stream closed early: ask
        }
        Templates.Template t = c.templates().get(ref);
        Output.action(status.equals("failed") ? "build_failed" : "built", Map.of("id", t.id(), "status", status, "template", t),
                "Template " + t.name() + " (" + t.id() + "): " + status);
        return status.equals("failed") ? ExitCodes.FAILURE : 0;
    }

    private static String jsonString(String s) {
        try {
            return Output.JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String readFile(String file) throws java.io.IOException {
        Path p = Path.of(file);
        if (Files.isDirectory(p)) {
            p = p.resolve("Dockerfile");
        }
        if (!Files.isRegularFile(p)) {
            throw new CliException(ExitCodes.NOT_FOUND, "no such Dockerfile: " + p);
        }
        return Files.readString(p);
    }
}
