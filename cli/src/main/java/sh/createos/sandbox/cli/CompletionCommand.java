package sh.createos.sandbox.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code createos completion bash|zsh}: picocli's generated completion script for the whole command tree (commands,
 * aliases, options). zsh loads it through bashcompinit. Sandbox names are not completed yet, and fish is refused.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print a shell completion script: source <(createos completion bash).",
                "Completes commands, aliases and options (not yet sandbox names); bash and zsh."})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash or zsh")
    String shell;

    @Override
    public Integer call() {
        String script = AutoComplete.bash("createos", spec.root().commandLine());
        switch (shell) {
            case "bash" -> System.out.print(script);
            case "zsh" -> System.out.print("autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
                    + script);
            default -> throw new CliException(ExitCodes.USAGE, "completion for '" + shell
                    + "' is not available: bash or zsh");
        }
        return 0;
    }
}
