package sh.createos.sandbox.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.Computer;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb desktop}: a noVNC link to a desktop sandbox's screen (turns the ingress on when it is off). */
@Command(name = "desktop", mixinStandardHelpOptions = true,
        description = {"Open the desktop of a desktop:1 sandbox in a browser: waits for the desktop, enables the",
                "public ingress when it is off, and prints a fresh noVNC link (each link invalidates the last)."})
final class DesktopCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX", description = "id or name (asked when omitted on a terminal)")
    String ref;

    @Option(names = "--timeout", defaultValue = "300", paramLabel = "SECONDS", description = "wait this long for the desktop (exit 8)")
    long timeout;

    @Override
    public Integer call() {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = Picker.sandbox(c, ref);
            if (!s.data().ingressEnabled()) {
                s = s.setIngress(true);
            }
            Computer comp = ComputerCommand.ready(s, timeout);
            Computer.Screen screen = comp.screen();
            Computer.Link link = comp.connect();
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("id", s.id());
            f.put("url", link.url());
            f.put("link", link);
            f.put("screen", screen);
            Output.action("desktop", f, (link.url() != null ? link.url() : "noVNC path " + link.path()
                    + " (the server runs no ingress: reach guest port " + link.port() + " yourself)")
                    + "\n  " + screen.width() + "x" + screen.height() + ", link expires " + link.expiresAt());
            return 0;
        }
    }
}
