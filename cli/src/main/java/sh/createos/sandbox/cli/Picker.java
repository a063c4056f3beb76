package sh.createos.sandbox.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.jline.keymap.BindingReader;
import org.jline.keymap.KeyMap;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.Display;
import org.jline.utils.InfoCmp;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * The interactive picker for an omitted sandbox reference: arrows move, typing filters, Enter picks,
 * Esc or Ctrl-C cancels. Only when stdin is a terminal; a script gets a usage error instead.
 */
final class Picker {
    private Picker() {}

    /** The sandbox {@code ref} names, or the one the user picks when it is null. */
    static Sandbox sandbox(SandboxClient c, String ref) {
        if (ref != null) {
            return SandboxCommand.resolve(c, ref);
        }
        if (!stdinIsTerminal()) {
            throw new CliException(ExitCodes.USAGE, "which sandbox? pass SANDBOX (an id or a name)");
        }
        List<Sandbox> all = new ArrayList<>();
        for (Sandbox s : c.listSandboxes()) {
            if (s.status() != SandboxStatus.DESTROYED) {
                all.add(s);
            }
        }
        if (all.isEmpty()) {
            throw new CliException(ExitCodes.NOT_FOUND, "no sandboxes; create one with `sb create`");
        }
        return pick("Pick a sandbox", all, s -> String.format("%-30s %-20s %-9s %s", s.id(),
                s.data().name() == null ? "-" : s.data().name(), s.status().wire(), s.data().shape()));
    }

    static boolean stdinIsTerminal() {
        try {
            String target = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return System.console() != null && System.console().isTerminal();
        }
    }

    /** Shows the items on the terminal and returns the chosen one. */
    static <T> T pick(String title, List<T> items, Function<T, String> label) {
        try (Terminal term = TerminalBuilder.builder().system(true).build()) {
            Attributes saved = term.enterRawMode();
            try {
                return loop(term, title, items, label);
            } finally {
                term.setAttributes(saved);
                term.writer().flush();
            }
        } catch (IOException e) {
            throw new CliException(ExitCodes.FAILURE, "the picker needs a terminal: " + e.getMessage());
        }
    }

    private enum Key { UP, DOWN, ENTER, CANCEL, BACKSPACE, CHAR }

    private static <T> T loop(Terminal term, String title, List<T> items, Function<T, String> label) {
        KeyMap<Key> keys = new KeyMap<>();
        keys.bind(Key.UP, "\033[A", "\033OA");
        keys.bind(Key.DOWN, "\033[B", "\033OB");
        for (var cap : List.of(InfoCmp.Capability.key_up, InfoCmp.Capability.key_down)) {
            String seq = KeyMap.key(term, cap);
            if (seq != null && !seq.isEmpty()) {
                keys.bind(cap == InfoCmp.Capability.key_up ? Key.UP : Key.DOWN, seq);
            }
        }
        keys.bind(Key.ENTER, "\r", "\n");
        keys.bind(Key.CANCEL, "\033", KeyMap.ctrl('C'), KeyMap.ctrl('D'));
        keys.bind(Key.BACKSPACE, KeyMap.del(), KeyMap.ctrl('H'));
        keys.setUnicode(Key.CHAR);
        keys.setAmbiguousTimeout(100);
        BindingReader reader = new BindingReader(term.reader());
        Display display = new Display(term, false);
        display.resize(term.getHeight(), term.getWidth());
        String filter = "";
        int cursor = 0;
        while (true) {
            String f = filter.toLowerCase(Locale.ROOT);
            List<T> shown = items.stream().filter(i -> label.apply(i).toLowerCase(Locale.ROOT).contains(f)).toList();
            cursor = Math.max(0, Math.min(cursor, shown.size() - 1));
            List<AttributedString> lines = new ArrayList<>();
            lines.add(new AttributedString(title + " (↑/↓, type to filter, Enter, Esc): " + filter));
            int max = Math.max(1, Math.min(shown.size(), term.getHeight() - 2));
            int first = Math.max(0, cursor - max + 1);
            for (int i = first; i < first + max && i < shown.size(); i++) {
                String text = (i == cursor ? "> " : "  ") + label.apply(shown.get(i));
                lines.add(i == cursor ? AttributedString.fromAnsi("\033[7m" + text + "\033[0m") : new AttributedString(text));
            }
            if (shown.isEmpty()) {
                lines.add(new AttributedString("  (nothing matches)"));
            }
            display.update(lines, -1);
            Key k = reader.readBinding(keys);
            if (k == null) {
                k = Key.CANCEL;
            }
            switch (k) {
                case UP -> cursor = Math.max(0, cursor - 1);
                case DOWN -> cursor = Math.min(Math.max(0, shown.size() - 1), cursor + 1);
                case BACKSPACE -> filter = filter.isEmpty() ? "" : filter.substring(0, filter.length() - 1);
                case CHAR -> {
                    String s = reader.getLastBinding();
                    if (s.chars().allMatch(ch -> ch >= 32)) {
                        filter += s;
                        cursor = 0;
                    }
                }
                case CANCEL -> {
                    display.update(List.of(), 0);
                    throw new CliException(ExitCodes.FAILURE, "cancelled");
                }
                case ENTER -> {
                    if (!shown.isEmpty()) {
                        display.update(List.of(new AttributedString(label.apply(shown.get(cursor)))), -1);
                        term.writer().println();
                        return shown.get(cursor);
                    }
                }
            }
        }
    }
}
