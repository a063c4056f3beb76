package sh.createos.sandbox.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.Computer;
import sh.createos.sandbox.sdk.ConflictException;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * {@code sb computer}: drive the desktop of a {@code desktop:1} sandbox (docs/interactive-api.md §10.1). The
 * first call starts the desktop; every verb waits for it (up to --timeout) before acting.
 */
@Command(name = "computer", mixinStandardHelpOptions = true,
        description = {"Drive the desktop of a desktop image (desktop:1): screenshots, mouse, keyboard, windows.",
                "Each verb waits until the desktop runs (the first call starts it). Key names are xdotool's."})
final class ComputerCommand {
    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "how long to wait for the desktop to start (default 300; exit 8)")
    long timeout;

    /** The sandbox's desktop once it answers (409 desktop_unavailable while it starts). */
    static Computer ready(Sandbox s, long timeoutSeconds) {
        Computer c = s.computer();
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        try (Progress spinner = new Progress("starting the desktop of " + s.id(), -1)) {
            while (true) {
                try {
                    c.screen();
                    return c;
                } catch (ConflictException e) {
                    if (System.nanoTime() > deadline) {
                        throw new CliException(ExitCodes.TIMEOUT, "the desktop of " + s.id() + " did not start within "
                                + timeoutSeconds + " s: " + e.getMessage());
                    }
                    spinner.tick();
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        throw new CliException(ExitCodes.FAILURE, "interrupted");
                    }
                }
            }
        }
    }

    @Command(name = "screenshot", aliases = "shot", mixinStandardHelpOptions = true,
            description = "Save a PNG of the screen (to FILE, default screenshot.png; - for stdout).")
    int screenshot(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
                   @Option(names = {"--file", "--out"}, paramLabel = "FILE", defaultValue = "screenshot.png",
                           description = "where to write the PNG") String file) throws Exception {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            byte[] png = ready(s, timeout).screenshot();
            if (file.equals("-")) {
                System.out.write(png);
                System.out.flush();
                return 0;
            }
            Files.write(Path.of(file), png);
            Output.action("screenshot", Map.of("id", s.id(), "file", file, "bytes", png.length),
                    "Saved " + png.length + " bytes to " + file);
            return 0;
        }
    }

    @Command(name = "screen", mixinStandardHelpOptions = true, description = "The screen's size in pixels.")
    int screen(@Parameters(index = "0", paramLabel = "SANDBOX") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Computer.Screen sc = ready(SandboxCommand.resolve(c, ref), timeout).screen();
            Output.rows(List.of(sc), List.of(new Output.Column<Computer.Screen>("WIDTH", Computer.Screen::width, false),
                    new Output.Column<Computer.Screen>("HEIGHT", Computer.Screen::height, false)), sc);
            return 0;
        }
    }

    @Command(name = "click", mixinStandardHelpOptions = true, description = "Click at X Y (or where the pointer is).")
    int click(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
              @Parameters(index = "1", arity = "0..1", paramLabel = "X") Integer x,
              @Parameters(index = "2", arity = "0..1", paramLabel = "Y") Integer y,
              @Option(names = "--button", defaultValue = "left", paramLabel = "left|right|middle", description = "default left") String button,
              @Option(names = "--double", description = "a double click") boolean dbl) {
        if ((x == null) != (y == null)) {
            throw new CliException(ExitCodes.USAGE, "give both X and Y, or neither");
        }
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ready(s, timeout).click(x, y, button, dbl ? 2 : 1);
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("id", s.id());
            if (x != null) {
                f.put("x", x);
                f.put("y", y);
            }
            f.put("button", button);
            Output.action("clicked", f, "Clicked " + button + (x == null ? "" : " at " + x + "," + y));
            return 0;
        }
    }

    @Command(name = "move", mixinStandardHelpOptions = true, description = "Move the pointer to X Y.")
    int move(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
             @Parameters(index = "1", paramLabel = "X") int x, @Parameters(index = "2", paramLabel = "Y") int y) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ready(s, timeout).move(x, y);
            Output.action("moved", Map.of("id", s.id(), "x", x, "y", y), "Moved to " + x + "," + y);
            return 0;
        }
    }

    @Command(name = "scroll", mixinStandardHelpOptions = true, description = "Scroll up|down|left|right by N steps.")
    int scroll(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
               @Parameters(index = "1", paramLabel = "DIRECTION") String direction,
               @Parameters(index = "2", arity = "0..1", defaultValue = "3", paramLabel = "N") int amount) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ready(s, timeout).scroll(direction, amount);
            Output.action("scrolled", Map.of("id", s.id(), "direction", direction, "amount", amount), "Scrolled " + direction);
            return 0;
        }
    }

    @Command(name = "type", mixinStandardHelpOptions = true, description = "Type TEXT as key strokes.")
    int type(@Parameters(index = "0", paramLabel = "SANDBOX") String ref, @Parameters(index = "1", paramLabel = "TEXT") String text) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ready(s, timeout).type(text);
            Output.action("typed", Map.of("id", s.id(), "chars", text.length()), "Typed " + text.length() + " characters");
            return 0;
        }
    }

    @Command(name = "key", aliases = "press", mixinStandardHelpOptions = true,
            description = "Press a key or a chord: Return, ctrl+l, ctrl+shift+t, F5 (xdotool names).")
    int key(@Parameters(index = "0", paramLabel = "SANDBOX") String ref, @Parameters(index = "1", paramLabel = "KEYS") String keys) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            List<String> chord = Arrays.asList(keys.split("\\+"));
            ready(s, timeout).press(chord);
            Output.action("pressed", Map.of("id", s.id(), "keys", chord), "Pressed " + keys);
            return 0;
        }
    }

    @Command(name = "windows", mixinStandardHelpOptions = true, description = "List the open windows.")
    int windows(@Parameters(index = "0", paramLabel = "SANDBOX") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            List<Computer.Window> rows = ready(SandboxCommand.resolve(c, ref), timeout).windows();
            Output.rows(rows, List.of(new Output.Column<Computer.Window>("ID", Computer.Window::id, false),
                    new Output.Column<Computer.Window>("TITLE", Computer.Window::title, false)), rows);
            return 0;
        }
    }

    @Command(name = "open", mixinStandardHelpOptions = true, description = "Open a URL or file with the desktop's default application.")
    int open(@Parameters(index = "0", paramLabel = "SANDBOX") String ref, @Parameters(index = "1", paramLabel = "TARGET") String target) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            ready(s, timeout).open(target);
            Output.action("opened", Map.of("id", s.id(), "target", target), "Opened " + target);
            return 0;
        }
    }
}
