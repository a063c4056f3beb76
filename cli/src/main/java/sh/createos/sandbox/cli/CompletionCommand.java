package sh.createos.sandbox.cli;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/**
 * {@code createos completion bash|zsh|fish}: the whole command tree (commands, aliases, options; picocli generates
 * bash's, fish's is written from the same model), plus sandbox names and ids where a SANDBOX goes, asked of the
 * server at the moment of the TAB through the hidden {@code createos __complete sandboxes}.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Print a shell completion script for createos and sb:",
                "  bash: source <(createos completion bash)     zsh: source <(createos completion zsh)",
                "  fish: createos completion fish | source",
                "Completes commands, aliases, options, and sandbox names and ids (asked of the server)."})
final class CompletionCommand implements Callable<Integer> {
    /** Verbs whose first argument is a sandbox. */
    static final List<String> SANDBOX_VERBS = List.of("get", "rm", "delete", "destroy", "pause", "resume", "fork",
            "exec", "shell", "sh", "push", "upload", "pull", "download", "tunnel", "tun", "wait", "sync", "logs",
            "edit", "desktop");

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SHELL", description = "bash, zsh or fish")
    String shell;

    @Override
    public Integer call() {
        CommandLine root = spec.root().commandLine();
        switch (shell) {
            case "bash" -> System.out.print(bash(root));
            case "zsh" -> System.out.print("autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"
                    + bash(root));
            case "fish" -> System.out.print(fish(root));
            default -> throw new CliException(ExitCodes.USAGE, "completion for '" + shell + "' is not available: "
                    + "bash, zsh or fish");
        }
        return 0;
    }

    private static String bash(CommandLine root) {
        CommandLine sandbox = root.getSubcommands().get("sandbox");
        String verbs = String.join("|", SANDBOX_VERBS);
        return AutoComplete.bash("createos", root) + "\n" + AutoComplete.bash("sb", sandbox) + "\n"
                + """
                # Sandbox names and ids after a verb that takes one (asked of the server at TAB time).
                _createos_sandboxes() {
                  local cur=${COMP_WORDS[COMP_CWORD]} i verb= first=1
                  [[ $cur == -* ]] && return
                  if [[ ${COMP_WORDS[0]##*/} == sb ]]; then first=1; else
                    for ((i = 1; i < COMP_CWORD; i++)); do
                      case ${COMP_WORDS[i]} in sandbox|sb) first=$((i + 1)); break;; esac
                    done
                  fi
                  verb=${COMP_WORDS[first]}
                  (( COMP_CWORD == first + 1 )) || return
                  case $verb in VERBS) ;; *) return;; esac
                  local names
                  names=$(command createos __complete sandboxes 2>/dev/null)
                  COMPREPLY+=( $(compgen -W "$names" -- "$cur") )
                }
                _createos_complete() { _complete_createos "$@"; _createos_sandboxes; }
                _sb_complete() { _complete_sb "$@"; _createos_sandboxes; }
                complete -F _createos_complete -o default createos
                complete -F _sb_complete -o default sb
                """.replace("VERBS", verbs);
    }

    private static String fish(CommandLine root) {
        StringBuilder b = new StringBuilder();
        Set<String> names = new LinkedHashSet<>();
        collectNames(root, names);
        b.append("# createos completion for fish: createos completion fish | source\n");
        b.append("set -g __createos_commands ").append(String.join(" ", names.stream().map(CompletionCommand::fishQuote).toList()))
                .append('\n');
        b.append("""
                function __createos_at --description 'are the command words so far exactly these?'
                    set -l words
                    for t in (commandline -opc)[2..-1]
                        contains -- $t $__createos_commands; and set -a words $t
                    end
                    test "$words" = "$argv"
                end
                function __createos_sandboxes
                    command createos __complete sandboxes 2>/dev/null
                end
                complete -c createos -f
                """);
        walk(root, new ArrayList<>(), b);
        b.append("complete -c sb --wraps 'createos sandbox'\n");
        return b.toString();
    }

    private static void collectNames(CommandLine cl, Set<String> names) {
        for (var e : cl.getSubcommands().entrySet()) {
            names.add(e.getKey());
            collectNames(e.getValue(), names);
        }
    }

    private static void walk(CommandLine cl, List<String> path, StringBuilder b) {
        String at = "'__createos_at" + (path.isEmpty() ? "" : " " + String.join(" ", path)) + "'";
        Set<CommandLine> seen = new LinkedHashSet<>();
        for (var e : cl.getSubcommands().entrySet()) {
            CommandLine sub = e.getValue();
            if (sub.getCommandSpec().usageMessage().hidden()) {
                continue;
            }
            String[] desc = sub.getCommandSpec().usageMessage().description();
            b.append("complete -c createos -n ").append(at).append(" -a ").append(fishQuote(e.getKey()));
            if (desc.length > 0) {
                b.append(" -d ").append(fishQuote(desc[0]));
            }
            b.append('\n');
            if (seen.add(sub)) {
                List<String> next = new ArrayList<>(path);
                next.add(sub.getCommandName());
                walk(sub, next, b);
                // aliases reach the same options
                for (String alias : sub.getCommandSpec().aliases()) {
                    List<String> viaAlias = new ArrayList<>(path);
                    viaAlias.add(alias);
                    walk(sub, viaAlias, b);
                }
            }
        }
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (o.hidden() || path.isEmpty()) {
                continue;
            }
            b.append("complete -c createos -n ").append(at);
            for (String n : o.names()) {
                if (n.startsWith("--")) {
                    b.append(" -l ").append(n.substring(2));
                } else if (n.startsWith("-") && n.length() == 2) {
                    b.append(" -s ").append(n.substring(1));
                }
            }
            if (o.arity().max() > 0) {
                b.append(" -r");
            }
            if (o.description().length > 0) {
                b.append(" -d ").append(fishQuote(o.description()[0]));
            }
            b.append('\n');
        }
        if (path.size() >= 2 && (path.get(0).equals("sandbox") || path.get(0).equals("sb"))
                && SANDBOX_VERBS.contains(path.get(path.size() - 1)) && path.size() == 2) {
            b.append("complete -c createos -n ").append(at).append(" -a '(__createos_sandboxes)'\n");
        }
    }

    private static String fishQuote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** {@code createos __complete sandboxes}: names and ids, one a line, for the completion scripts. */
    @Command(name = "__complete", hidden = true, description = "Candidates for shell completion.")
    static final class Candidates implements Callable<Integer> {
        @Parameters(paramLabel = "WHAT", description = "sandboxes")
        String what;

        @Override
        public Integer call() {
            if (!what.equals("sandboxes")) {
                return ExitCodes.USAGE;
            }
            try (SandboxClient c = CreateosCli.client()) {
                for (Sandbox s : c.listSandboxes()) {
                    if (s.status() == SandboxStatus.DESTROYED) {
                        continue;
                    }
                    if (s.data().name() != null) {
                        System.out.println(s.data().name());
                    }
                    System.out.println(s.id());
                }
            }
            return 0;
        }
    }
}
