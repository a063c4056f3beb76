package sh.createos.sandbox.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.model.Network;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb network|net}: private networks between sandboxes. */
@Command(name = "network", aliases = "net", mixinStandardHelpOptions = true,
        description = "Private networks between sandboxes (names resolve inside: SANDBOX_NAME.NETWORK).")
final class NetworkCommand {
    static final List<Output.Column<Network>> COLUMNS = List.of(
            new Output.Column<>("ID", Network::id, false),
            new Output.Column<>("NAME", Network::name, false),
            new Output.Column<>("CIDR", Network::cidr, false),
            new Output.Column<>("MEMBERS", Network::memberCount, false),
            new Output.Column<>("CREATED", Network::createdAt, true));

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List networks.")
    int list() {
        try (SandboxClient c = CreateosCli.client()) {
            List<Network> rows = new ArrayList<>();
            c.networks().list().forEach(rows::add);
            Output.rows(rows, COLUMNS, rows);
            return 0;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a network.")
    int create(@Parameters(paramLabel = "NAME") String name) {
        try (SandboxClient c = CreateosCli.client()) {
            Network n = c.networks().create(name);
            Output.action("created", Map.of("id", n.id(), "network", n), "Created network " + n.id() + " (" + name + ")");
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a network and its members.")
    int get(@Parameters(paramLabel = "NETWORK") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Network n = c.networks().get(id(c, ref));
            Output.rows(List.of(n), COLUMNS, n);
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete"}, mixinStandardHelpOptions = true, description = "Delete a network.")
    int rm(@Parameters(paramLabel = "NETWORK") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            String id = id(c, ref);
            c.networks().delete(id);
            Output.action("deleted", Map.of("id", id), "Deleted network " + id);
            return 0;
        }
    }

    @Command(name = "attach", mixinStandardHelpOptions = true, description = "Attach a sandbox to a network.")
    int attach(@Parameters(index = "0", paramLabel = "NETWORK") String ref,
               @Parameters(index = "1", paramLabel = "SANDBOX") String sb) {
        try (SandboxClient c = CreateosCli.client()) {
            String id = id(c, ref);
            Sandbox s = SandboxCommand.resolve(c, sb);
            s.attachNetwork(id);
            Output.action("attached", Map.of("id", s.id(), "network_id", id), "Attached " + s.id() + " to " + id);
            return 0;
        }
    }

    @Command(name = "detach", mixinStandardHelpOptions = true, description = "Detach a sandbox from a network.")
    int detach(@Parameters(index = "0", paramLabel = "NETWORK") String ref,
               @Parameters(index = "1", paramLabel = "SANDBOX") String sb) {
        try (SandboxClient c = CreateosCli.client()) {
            String id = id(c, ref);
            Sandbox s = SandboxCommand.resolve(c, sb);
            s.detachNetwork(id);
            Output.action("detached", Map.of("id", s.id(), "network_id", id), "Detached " + s.id() + " from " + id);
            return 0;
        }
    }

    /** A network by id or by name. */
    static String id(SandboxClient c, String ref) {
        for (Network n : c.networks().list()) {
            if (n.id().equals(ref) || ref.equals(n.name())) {
                return n.id();
            }
        }
        throw new CliException(ExitCodes.NOT_FOUND, "no network with id or name '" + ref + "'");
    }
}
