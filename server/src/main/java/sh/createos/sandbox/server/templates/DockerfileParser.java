package sh.createos.sandbox.server.templates;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import sh.createos.sandbox.model.Template;

/**
 * Parses the Dockerfile subset a template build runs. The grammar, line by line:
 *
 * <pre>
 * file        = { directive } { blank | comment | instruction }
 * directive   = "# escape=" ( "\" | "`" )          (only before the first instruction)
 * comment     = ws* "#" any*                        (also dropped inside a continued instruction)
 * instruction = ws* KEYWORD ws+ arguments           (KEYWORD case-insensitive)
 * arguments   = text, where an escape char at a line's end (trailing spaces allowed) joins the next line
 * </pre>
 *
 * Supported: one FROM (optionally after ARGs), RUN (shell and exec form), ENV, ARG, WORKDIR, USER, LABEL, EXPOSE,
 * SHELL, CMD, ENTRYPOINT, MAINTAINER (a label). ENV, ARG, WORKDIR, USER, LABEL, EXPOSE and FROM expand
 * {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR:+alt}} from the ENV and ARG values in scope;
 * RUN, CMD and ENTRYPOINT are left to the shell. Everything else (COPY and ADD above all: content arrives only
 * through RUN) is refused with the line it is on.
 */
public final class DockerfileParser {
    /** interactive-api.md §9.1: a larger Dockerfile is a 413. */
    public static final int MAX_BYTES = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern PORT = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?(?:/(tcp|udp|sctp))?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern DIRECTIVE = Pattern.compile("#\\s*([a-zA-Z]+)\\s*=\\s*(\\S*)\\s*");
    static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");

    private DockerfileParser() {}

    /** A line of the file with its number (1-based) that starts an instruction, continuations joined. */
    record Logical(int line, String keyword, String arguments) {}

    /** @throws DockerfileException naming the line of the first problem */
    public static Dockerfile parse(String text) {
        return parse(text, null);
    }

    /**
     * Parses with the state the base image brings (a registry image's Env, WorkingDir, User, Cmd, Entrypoint…) as
     * where the file starts from, as Docker does.
     *
     * @param base the base's config, or null for none
     */
    public static Dockerfile parse(String text, Template.ImageConfig base) {
        if (text == null || text.isBlank()) {
            throw new DockerfileException(0, "the Dockerfile is empty");
        }
        List<Logical> logical = split(text);
        Evaluation evaluation = new Evaluation();
        if (base != null) {
            evaluation.seed(base);
        }
        return evaluation.run(logical);
    }

    /** Splits into logical lines: directives read, comments and blank lines dropped, continuations joined. */
    static List<Logical> split(String text) {
        String[] lines = text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        char escape = '\\';
        int i = 0;
        // Parser directives: only at the very top, before any comment that is not one, blank line or instruction.
        for (; i < lines.length; i++) {
            var m = DIRECTIVE.matcher(lines[i].strip());
            if (!m.matches()) {
                break;
            }
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (name.equals("escape")) {
                if (!m.group(2).equals("\\") && !m.group(2).equals("`")) {
                    throw new DockerfileException(i + 1, "the escape directive takes \\ or `, not '" + m.group(2) + "'");
                }
                escape = m.group(2).charAt(0);
            }
            // Other directives (syntax=…) change nothing here.
        }
        List<Logical> out = new ArrayList<>();
        StringBuilder current = null;
        int startLine = 0;
        for (; i < lines.length; i++) {
            String line = lines[i];
            String stripped = line.strip();
            if (current == null && (stripped.isEmpty() || stripped.startsWith("#"))) {
                continue;
            }
            if (current != null && stripped.startsWith("#")) {
                continue; // a comment inside a continued instruction is dropped, the instruction goes on
            }
            if (current != null && stripped.isEmpty()) {
                continue; // Docker allows (and warns about) empty continuation lines
            }
            String body = stripTrailing(line);
            boolean continues = body.endsWith(String.valueOf(escape)) && !endsWithEscapedEscape(body, escape);
            if (continues) {
                body = body.substring(0, body.length() - 1);
            }
            if (current == null) {
                current = new StringBuilder();
                startLine = i + 1;
                current.append(body.stripLeading());
            } else {
                current.append(body);
            }
            if (!continues) {
                out.add(logical(startLine, current.toString()));
                current = null;
            }
        }
        if (current != null) {
            out.add(logical(startLine, current.toString()));
        }
        return out;
    }

    private static boolean endsWithEscapedEscape(String body, char escape) {
        // "\\" at the end is an escaped backslash, not a continuation (only for the backslash escape).
        int n = 0;
        for (int k = body.length() - 1; k >= 0 && body.charAt(k) == escape; k--) {
            n++;
        }
        return n % 2 == 0;
    }

    private static String stripTrailing(String s) {
        return s.stripTrailing();
    }

    private static Logical logical(int line, String text) {
        String trimmed = text.strip();
        int space = 0;
        while (space < trimmed.length() && !Character.isWhitespace(trimmed.charAt(space))) {
            space++;
        }
        String keyword = trimmed.substring(0, space);
        if (!keyword.matches("[A-Za-z]+")) {
            throw new DockerfileException(line, "expected an instruction keyword, found '" + abbreviate(keyword) + "'");
        }
        return new Logical(line, keyword.toUpperCase(Locale.ROOT), trimmed.substring(space).strip());
    }

    static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    /** Walks the instructions in order, keeping the build's state (ARG, ENV, WORKDIR, USER, SHELL). */
    private static final class Evaluation {
        private final Map<String, String> args = new LinkedHashMap<>();
        private final Map<String, String> env = new LinkedHashMap<>();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private final List<String> exposed = new ArrayList<>();
        private final List<Dockerfile.Instruction> instructions = new ArrayList<>();
        private List<String> shell = DEFAULT_SHELL;
        private boolean shellSet;
        private String workdir = "/";
        private boolean workdirSet;
        private String user;
        private List<String> cmd;
        private List<String> entrypoint;
        private String from;
        private int fromLine;

        void seed(Template.ImageConfig base) {
            if (base.env() != null) {
                env.putAll(base.env());
            }
            if (base.workdir() != null && base.workdir().startsWith("/")) {
                workdir = normalize(base.workdir());
                workdirSet = true;
            }
            user = base.user();
            cmd = base.cmd();
            entrypoint = base.entrypoint();
            if (base.exposedPorts() != null) {
                exposed.addAll(base.exposedPorts());
            }
            if (base.labels() != null) {
                labels.putAll(base.labels());
            }
        }

        Dockerfile run(List<Logical> lines) {
            for (Logical l : lines) {
                instruction(l);
            }
            if (from == null) {
                throw new DockerfileException(lines.isEmpty() ? 0 : lines.get(lines.size() - 1).line(),
                        "the Dockerfile has no FROM");
            }
            Template.ImageConfig config = new Template.ImageConfig(Map.copyOf(env), workdirSet ? workdir : null, user,
                    cmd, entrypoint, List.copyOf(exposed), Map.copyOf(labels), shellSet ? shell : null);
            return new Dockerfile(from, fromLine, List.copyOf(instructions), config);
        }

        private void instruction(Logical l) {
            String k = l.keyword();
            if (from == null && !k.equals("FROM") && !k.equals("ARG")) {
                throw new DockerfileException(l.line(), k + " before FROM: a Dockerfile starts with FROM (only ARG"
                        + " may come before it)");
            }
            if (l.arguments().isEmpty()) {
                throw new DockerfileException(l.line(), k + " needs arguments");
            }
            switch (k) {
                case "FROM" -> from(l);
                case "RUN" -> run(l);
                case "ENV" -> env(l);
                case "ARG" -> arg(l);
                case "WORKDIR" -> workdir(l);
                case "USER" -> user(l);
                case "LABEL" -> label(l);
                case "MAINTAINER" -> {
                    labels.put("maintainer", l.arguments());
                    add(l, null);
                }
                case "EXPOSE" -> expose(l);
                case "SHELL" -> shell(l);
                case "CMD" -> cmd = command(l, "CMD");
                case "ENTRYPOINT" -> entrypoint = command(l, "ENTRYPOINT");
                case "COPY", "ADD" -> throw new DockerfileException(l.line(), k + " is not supported: a template's"
                        + " content arrives only through RUN (there is no build context)");
                case "HEALTHCHECK", "VOLUME", "STOPSIGNAL", "ONBUILD" -> throw new DockerfileException(l.line(),
                        k + " is not supported in a template");
                default -> throw new DockerfileException(l.line(), "unknown instruction " + k);
            }
        }

        private void add(Logical l, Dockerfile.Run run) {
            instructions.add(new Dockerfile.Instruction(l.line(), l.keyword(), text(l), l.keyword() + " " + l.arguments(), run,
                    workdir));
        }

        private void addCanonical(Logical l, String canonical) {
            instructions.add(new Dockerfile.Instruction(l.line(), l.keyword(), text(l), l.keyword() + " " + canonical, null,
                    workdir));
        }

        private void from(Logical l) {
            if (from != null) {
                throw new DockerfileException(l.line(), "a second FROM: multi-stage builds are not supported (one FROM"
                        + " per Dockerfile; FROM a template of yours to build on it)");
            }
            List<String> words = Words.split(l.arguments(), scope(), l.line());
            List<String> rest = new ArrayList<>(words);
            while (!rest.isEmpty() && rest.get(0).startsWith("--")) {
                String flag = rest.remove(0);
                if (!flag.equalsIgnoreCase("--platform=linux/amd64")) {
                    throw new DockerfileException(l.line(), "FROM flag " + flag + " is not supported (only"
                            + " --platform=linux/amd64)");
                }
            }
            if (rest.size() == 3 && rest.get(1).equalsIgnoreCase("AS")) {
                rest = rest.subList(0, 1); // a stage name is harmless with one stage
            }
            if (rest.size() != 1 || rest.get(0).isEmpty()) {
                throw new DockerfileException(l.line(), "FROM takes one image (FROM <image> [AS <name>])");
            }
            from = rest.get(0);
            fromLine = l.line();
            // ARGs before FROM are only for FROM itself (as in Docker).
            args.clear();
        }

        private void run(Logical l) {
            String text = l.arguments();
            if (text.startsWith("--")) {
                String flag = text.split("\\s+", 2)[0];
                throw new DockerfileException(l.line(), "RUN flag " + abbreviate(flag) + " is not supported");
            }
            if (text.startsWith("<<")) {
                throw new DockerfileException(l.line(), "heredocs are not supported; write the commands in RUN");
            }
            List<String> argv = execForm(text, l.line(), "RUN");
            if (argv == null) {
                argv = new ArrayList<>(shell);
                argv.add(text);
            } else if (argv.isEmpty()) {
                throw new DockerfileException(l.line(), "RUN [] has no command");
            }
            Map<String, String> runEnv = new LinkedHashMap<>();
            args.forEach((name, value) -> {
                if (value != null) {
                    runEnv.put(name, value);
                }
            });
            runEnv.putAll(env);
            Dockerfile.Run run = new Dockerfile.Run(List.copyOf(argv), Map.copyOf(runEnv), workdir, user);
            // The key text names everything the command runs with, so an ENV/ARG/USER/WORKDIR change above it,
            // which changes the instructions before it anyway, is visible in the RUN's own text too.
            instructions.add(new Dockerfile.Instruction(l.line(), "RUN", text(l), "RUN " + argvText(argv), run,
                    workdir));
        }

        private void env(Logical l) {
            Map<String, String> pairs = pairs(l, "ENV", true);
            env.putAll(pairs);
            addCanonical(l, pairsText(pairs));
        }

        private void arg(Logical l) {
            List<String> words = Words.split(l.arguments(), scope(), l.line());
            StringBuilder canonical = new StringBuilder();
            for (String word : words) {
                int eq = word.indexOf('=');
                String name = eq < 0 ? word : word.substring(0, eq);
                if (!NAME.matcher(name).matches()) {
                    throw new DockerfileException(l.line(), "ARG name '" + abbreviate(name) + "' is not a valid name");
                }
                String value = eq < 0 ? null : word.substring(eq + 1);
                // No build arguments are passed in: a declared ARG has its default, or is unset.
                args.put(name, value);
                canonical.append(canonical.isEmpty() ? "" : " ").append(name)
                        .append(value == null ? "" : "=" + quote(value));
            }
            if (from != null) {
                addCanonical(l, canonical.toString());
            }
        }

        private void workdir(Logical l) {
            String path = Words.expand(l.arguments(), scope(), l.line());
            String joined = path.startsWith("/") ? path : (workdir.endsWith("/") ? workdir : workdir + "/") + path;
            workdir = normalize(joined);
            workdirSet = true;
            addCanonical(l, workdir);
        }

        private void user(Logical l) {
            String value = Words.expand(l.arguments(), scope(), l.line()).strip();
            if (value.isEmpty() || value.contains(" ")) {
                throw new DockerfileException(l.line(), "USER takes one user name or uid (USER <user>[:<group>])");
            }
            String name = value.contains(":") ? value.substring(0, value.indexOf(':')) : value;
            if (!name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
                throw new DockerfileException(l.line(), "USER '" + abbreviate(value) + "' is not a user name or uid");
            }
            user = name;
            addCanonical(l, name);
        }

        private void label(Logical l) {
            Map<String, String> pairs = pairs(l, "LABEL", false);
            labels.putAll(pairs);
            addCanonical(l, pairsText(pairs));
        }

        private void expose(Logical l) {
            for (String port : Words.split(l.arguments(), scope(), l.line())) {
                var m = PORT.matcher(port);
                if (!m.matches() || Integer.parseInt(m.group(1)) > 65535
                        || (m.group(2) != null && Integer.parseInt(m.group(2)) > 65535)) {
                    throw new DockerfileException(l.line(), "EXPOSE '" + abbreviate(port) + "' is not a port"
                            + " (<port>[-<port>][/tcp|/udp])");
                }
                String normal = port.toLowerCase(Locale.ROOT);
                exposed.add(normal.contains("/") ? normal : normal + "/tcp");
            }
            addCanonical(l, String.join(" ", exposed));
        }

        private void shell(Logical l) {
            List<String> argv = execForm(l.arguments(), l.line(), "SHELL");
            if (argv == null || argv.isEmpty()) {
                throw new DockerfileException(l.line(), "SHELL takes a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]");
            }
            shell = List.copyOf(argv);
            shellSet = true;
            addCanonical(l, argvText(shell));
        }

        private List<String> command(Logical l, String keyword) {
            List<String> argv = execForm(l.arguments(), l.line(), keyword);
            if (argv == null) {
                argv = new ArrayList<>(shell);
                argv.add(l.arguments());
            }
            addCanonical(l, argvText(argv));
            return List.copyOf(argv);
        }

        /** KEY=VALUE pairs; for ENV also the legacy {@code ENV KEY value with spaces}. */
        private Map<String, String> pairs(Logical l, String keyword, boolean legacyForm) {
            Map<String, String> scope = scope();
            List<String> words = Words.split(l.arguments(), scope, l.line());
            Map<String, String> pairs = new LinkedHashMap<>();
            if (legacyForm && !words.isEmpty() && !words.get(0).contains("=")) {
                String rest = l.arguments().strip();
                int space = 0;
                while (space < rest.length() && !Character.isWhitespace(rest.charAt(space))) {
                    space++;
                }
                String name = rest.substring(0, space);
                String value = rest.substring(space).strip();
                if (value.isEmpty()) {
                    throw new DockerfileException(l.line(), keyword + " " + name + " needs a value (" + keyword
                            + " <key>=<value> …)");
                }
                checkName(l, keyword, name);
                pairs.put(name, Words.expand(value, scope, l.line()));
                return pairs;
            }
            for (String word : words) {
                int eq = word.indexOf('=');
                if (eq <= 0) {
                    throw new DockerfileException(l.line(), keyword + " expects <key>=<value> pairs, not '"
                            + abbreviate(word) + "'");
                }
                String name = word.substring(0, eq);
                if (legacyForm) {
                    checkName(l, keyword, name);
                }
                pairs.put(name, word.substring(eq + 1));
            }
            return pairs;
        }

        private static void checkName(Logical l, String keyword, String name) {
            if (!NAME.matcher(name).matches()) {
                throw new DockerfileException(l.line(), keyword + " name '" + abbreviate(name) + "' is not a valid"
                        + " variable name");
            }
        }

        /** The variables a substitution sees: ARGs, overridden by ENVs of the same name. */
        private Map<String, String> scope() {
            Map<String, String> scope = new LinkedHashMap<>(args);
            scope.putAll(env);
            return scope;
        }

        /** A JSON array of strings, or null when the text is not one (then it is the shell form, as in Docker). */
        private static List<String> execForm(String text, int line, String keyword) {
            if (!text.startsWith("[")) {
                return null;
            }
            try {
                List<String> argv = JSON.readValue(text, new TypeReference<List<String>>() {});
                if (argv.contains(null)) {
                    throw new DockerfileException(line, keyword + " exec form must not contain null");
                }
                return argv;
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                return null;
            }
        }
    }

    private static String text(Logical l) {
        return l.keyword() + " " + l.arguments();
    }

    static String normalize(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
            } else {
                parts.add(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    private static String argvText(List<String> argv) {
        try {
            return JSON.writeValueAsString(argv);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pairsText(Map<String, String> pairs) {
        StringBuilder s = new StringBuilder();
        pairs.forEach((k, v) -> s.append(s.isEmpty() ? "" : " ").append(k).append('=').append(quote(v)));
        return s.toString();
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
