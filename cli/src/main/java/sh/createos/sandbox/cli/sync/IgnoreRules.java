package sh.createos.sandbox.cli.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What sync leaves alone: {@code .gitignore} files (at the root and in sub-directories, each relative to its own
 * directory), {@code --exclude} patterns (gitignore syntax, relative to the root), and sync's own temporary files.
 * The last matching rule wins, {@code !} re-includes, a trailing {@code /} matches directories only, and a path
 * under an ignored directory is ignored (git does not look inside an excluded directory either).
 */
public final class IgnoreRules {
    /** Sync's own temporary files: never carried. */
    public static final String TEMP_PREFIX = ".~createos-sync.";

    private record Rule(String base, Pattern pattern, boolean negate, boolean dirOnly) {}

    private final List<Rule> rules = new ArrayList<>();

    /** Adds {@code --exclude} patterns (relative to the root). */
    public void addExcludes(List<String> patterns) {
        for (String p : patterns) {
            add("", p);
        }
    }

    /** Reads {@code dir/.gitignore}, {@code dir} being {@code rel} under the root ("" for the root). */
    public void addGitignore(Path dir, String rel) throws IOException {
        Path f = dir.resolve(".gitignore");
        if (Files.isRegularFile(f)) {
            for (String line : Files.readAllLines(f)) {
                add(rel, line);
            }
        }
    }

    void add(String base, String line) {
        String p = line;
        if (p.isBlank() || p.startsWith("#")) {
            return;
        }
        // Trailing spaces are ignored unless escaped.
        while (p.endsWith(" ") && !p.endsWith("\\ ")) {
            p = p.substring(0, p.length() - 1);
        }
        boolean negate = false;
        if (p.startsWith("!")) {
            negate = true;
            p = p.substring(1);
        } else if (p.startsWith("\\!") || p.startsWith("\\#")) {
            p = p.substring(1);
        }
        boolean dirOnly = p.endsWith("/");
        if (dirOnly) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return;
        }
        boolean anchored = p.contains("/");
        if (p.startsWith("/")) {
            p = p.substring(1);
        }
        String regex = (anchored ? "" : "(?:.*/)?") + globToRegex(p);
        rules.add(new Rule(base, Pattern.compile(regex), negate, dirOnly));
    }

    static String globToRegex(String glob) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    boolean slashAfter = i + 2 < glob.length() && glob.charAt(i + 2) == '/';
                    if (slashAfter) {
                        b.append("(?:.*/)?"); // "**/": zero or more directories
                        i += 2;
                    } else {
                        b.append(".*");
                        i += 1;
                    }
                } else {
                    b.append("[^/]*");
                }
            } else if (c == '?') {
                b.append("[^/]");
            } else if (c == '[') {
                int end = glob.indexOf(']', i + 1);
                if (end < 0) {
                    b.append("\\[");
                } else {
                    String cls = glob.substring(i + 1, end);
                    if (cls.startsWith("!")) {
                        cls = "^" + cls.substring(1);
                    }
                    b.append('[').append(cls.replace("\\", "\\\\")).append(']');
                    i = end;
                }
            } else if (c == '\\' && i + 1 < glob.length()) {
                b.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
            } else {
                b.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return b.toString();
    }

    /** Whether {@code rel} (slash-separated, relative to the root) or a directory above it is ignored. */
    public boolean ignored(String rel, boolean dir) {
        int slash = -1;
        while ((slash = rel.indexOf('/', slash + 1)) >= 0) {
            if (matches(rel.substring(0, slash), true)) {
                return true;
            }
        }
        return matches(rel, dir);
    }

    /** The verdict of the rules for this one path (its parents not considered). */
    boolean matches(String rel, boolean dir) {
        String name = rel.substring(rel.lastIndexOf('/') + 1);
        if (name.startsWith(TEMP_PREFIX)) {
            return true;
        }
        boolean ignored = false;
        for (Rule r : rules) {
            if (r.dirOnly && !dir) {
                continue;
            }
            String sub;
            if (r.base.isEmpty()) {
                sub = rel;
            } else if (rel.startsWith(r.base + "/")) {
                sub = rel.substring(r.base.length() + 1);
            } else {
                continue;
            }
            if (r.pattern.matcher(sub).matches()) {
                ignored = !r.negate;
            }
        }
        return ignored;
    }
}
