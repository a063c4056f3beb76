package sh.createos.sandbox.server;

/**
 * Text from a tenant (a guest's self-signal reason, an action name) as it may go into the server's log: control
 * characters, line and paragraph separators and quotes escaped, so that one log entry cannot forge another.
 */
public final class LogText {
    private LogText() {}

    /** {@code s} in double quotes with {@code \n}, {@code \"} and every other control character escaped. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
