package sh.createos.sandbox.server.templates;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Shell-like words of ENV, ARG, LABEL, EXPOSE, FROM, WORKDIR and USER arguments: {@code "double"} quotes (with
 * backslash escapes and substitution), {@code 'single'} quotes (literal), backslash escapes, and substitution of
 * {@code $NAME}, {@code ${NAME}}, {@code ${NAME:-word}}, {@code ${NAME-word}}, {@code ${NAME:+word}},
 * {@code ${NAME+word}} from the variables in scope (an unset variable is empty).
 */
final class Words {
    private Words() {}

    /** Splits on unquoted whitespace, removing quotes and substituting variables. */
    static List<String> split(String text, Map<String, String> scope, int line) {
        return new Scanner(text, scope, line).words(true);
    }

    /** The whole text as one word: quotes removed, variables substituted, whitespace kept. */
    static String expand(String text, Map<String, String> scope, int line) {
        List<String> words = new Scanner(text, scope, line).words(false);
        return words.isEmpty() ? "" : words.get(0);
    }

    private static final class Scanner {
        private final String s;
        private final Map<String, String> scope;
        private final int line;
        private int i;

        Scanner(String s, Map<String, String> scope, int line) {
            this.s = s;
            this.scope = scope;
            this.line = line;
        }

        List<String> words(boolean splitOnSpace) {
            List<String> words = new ArrayList<>();
            StringBuilder word = new StringBuilder();
            boolean inWord = false;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (splitOnSpace && Character.isWhitespace(c)) {
                    if (inWord) {
                        words.add(word.toString());
                        word.setLength(0);
                        inWord = false;
                    }
                    i++;
                    continue;
                }
                inWord = true;
                switch (c) {
                    case '\\' -> {
                        if (i + 1 < s.length()) {
                            word.append(s.charAt(i + 1));
                            i += 2;
                        } else {
                            i++;
                        }
                    }
                    case '\'' -> {
                        int end = s.indexOf('\'', i + 1);
                        if (end < 0) {
                            throw new DockerfileException(line, "unterminated single quote");
                        }
                        word.append(s, i + 1, end);
                        i = end + 1;
                    }
                    case '"' -> doubleQuoted(word);
                    case '$' -> word.append(variable());
                    default -> {
                        word.append(c);
                        i++;
                    }
                }
            }
            if (inWord) {
                words.add(word.toString());
            }
            return words;
        }

        private void doubleQuoted(StringBuilder word) {
            i++;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '"') {
                    i++;
                    return;
                }
                if (c == '\\' && i + 1 < s.length() && "\"\\$".indexOf(s.charAt(i + 1)) >= 0) {
                    word.append(s.charAt(i + 1));
                    i += 2;
                } else if (c == '$') {
                    word.append(variable());
                } else {
                    word.append(c);
                    i++;
                }
            }
            throw new DockerfileException(line, "unterminated double quote");
        }

        /** At a '$': the substituted value (a lone '$' stays itself). */
        private String variable() {
            i++;
            if (i < s.length() && s.charAt(i) == '{') {
                int end = s.indexOf('}', i);
                if (end < 0) {
                    throw new DockerfileException(line, "unterminated ${ in '" + DockerfileParser.abbreviate(s) + "'");
                }
                String body = s.substring(i + 1, end);
                i = end + 1;
                return braced(body);
            }
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                i++;
            }
            if (start == i) {
                return "$";
            }
            return scope.getOrDefault(s.substring(start, i), "");
        }

        private String braced(String body) {
            int op = 0;
            while (op < body.length() && (Character.isLetterOrDigit(body.charAt(op)) || body.charAt(op) == '_')) {
                op++;
            }
            String name = body.substring(0, op);
            if (name.isEmpty()) {
                throw new DockerfileException(line, "bad substitution ${" + body + "}");
            }
            String value = scope.get(name);
            String rest = body.substring(op);
            if (rest.isEmpty()) {
                return value == null ? "" : value;
            }
            boolean colon = rest.startsWith(":");
            String operator = colon ? rest.substring(1, Math.min(2, rest.length())) : rest.substring(0, 1);
            String word = rest.substring(colon ? 2 : 1);
            boolean set = value != null && (!colon || !value.isEmpty());
            return switch (operator) {
                case "-" -> set ? value : word;
                case "+" -> set ? word : "";
                default -> throw new DockerfileException(line, "bad substitution ${" + body + "} (supported: ${"
                        + name + "}, ${" + name + ":-default}, ${" + name + ":+alternative})");
            };
        }
    }
}
