package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** Every command's --help is complete: a description for the command and each option, a name for each argument. */
class CliHelpTest {
    @Test
    void everyCommandOptionAndArgumentIsDescribed() {
        List<String> missing = new ArrayList<>();
        walk(new CommandLine(new CreateosCli()), missing);
        assertThat(missing).isEmpty();
    }

    private static void walk(CommandLine cl, List<String> missing) {
        CommandSpec spec = cl.getCommandSpec();
        String name = spec.qualifiedName(" ");
        if (spec.usageMessage().description().length == 0 && !spec.usageMessage().hidden()
                && !(spec.userObject() instanceof CommandLine.HelpCommand)) {
            missing.add(name + ": no description");
        }
        for (OptionSpec o : spec.options()) {
            if (o.description().length == 0 || o.description()[0].isBlank()) {
                missing.add(name + " " + o.longestName() + ": no description");
            }
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.paramLabel().startsWith("<") && p.description().length == 0) {
                missing.add(name + " positional " + p.index() + ": neither a label nor a description");
            }
        }
        cl.getSubcommands().values().stream().distinct().forEach(sub -> walk(sub, missing));
    }

    @Test
    void theNewVerbsAreInTheTree() {
        CommandLine sb = new CommandLine(new CreateosCli()).getSubcommands().get("sb");
        assertThat(sb.getSubcommands()).containsKeys("sync", "logs", "edit", "self", "process", "proc", "network",
                "net", "disk", "firewall", "fw", "template", "shapes", "rootfs", "desktop", "computer");
        assertThat(sb.getSubcommands().get("computer").getSubcommands()).containsKeys("screenshot", "click", "type",
                "key", "move", "windows", "open");
        assertThat(sb.getSubcommands().get("self").getSubcommands()).containsKeys("pause", "delete");
    }
}
