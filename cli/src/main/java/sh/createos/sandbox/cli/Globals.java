package sh.createos.sandbox.cli;

import java.io.Console;

/** The options every command inherits, plus the terminal facts output decisions depend on. */
final class Globals {
    static String apiKey;
    static String apiUrl;
    static String profile;
    static String output;
    /** The key the client was built with (the WebSocket shell needs it for its own handshake). */
    static String resolvedKey;

    private Globals() {}

    static boolean stdoutIsTerminal() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** table on a terminal, JSON otherwise, unless -o says. */
    static String outputMode() {
        if (output != null) {
            return output;
        }
        return stdoutIsTerminal() ? "table" : "json";
    }

    static boolean structured() {
        String m = outputMode();
        return m.equals("json") || m.equals("yaml");
    }

    static boolean color() {
        return System.getenv("NO_COLOR") == null && stdoutIsTerminal();
    }
}
