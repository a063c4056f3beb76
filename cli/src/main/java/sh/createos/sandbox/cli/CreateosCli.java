package sh.createos.sandbox.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code createos}: the top of the command tree; {@code sb} is {@code createos sandbox}. */
@Command(name = "createos", mixinStandardHelpOptions = true, versionProvider = CreateosCli.Version.class,
        description = "The createos command line.",
        subcommands = {SandboxCommand.class, CreateosCli.Login.class, ProfileCommand.class, CompletionCommand.class,
                CompletionCommand.Candidates.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0 ok, 1 failure, 2 usage, 4 auth, 5 not found, 6 conflict/state, 8 timeout;",
                "  exec and shell return the remote command's code."})
public final class CreateosCli {

    @Option(names = "--api-key", scope = ScopeType.INHERIT, paramLabel = "KEY",
            description = "API key (else CREATEOS_API_KEY, CREATEOS_SANDBOX_API_KEY, the profile)")
    void apiKey(String v) {
        Globals.apiKey = v;
    }

    @Option(names = "--api-url", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "API base URL (else CREATEOS_SANDBOX_URL, CREATEOS_SANDBOX_BASE_URL, the profile)")
    void apiUrl(String v) {
        Globals.apiUrl = v;
    }

    @Option(names = "--profile", scope = ScopeType.INHERIT, paramLabel = "NAME",
            description = "Profile of the config file (else CREATEOS_PROFILE, the current one)")
    void profile(String v) {
        Globals.profile = v;
    }

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "FORMAT",
            description = "table|wide|json|yaml (JSON when stdout is not a terminal)")
    void output(String v) {
        if (!List.of("table", "wide", "json", "yaml").contains(v)) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "-o must be table, wide, json or yaml, not '" + v + "'");
        }
        Globals.output = v;
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // The hot path of scripts and the startup budget: no command model to build.
            System.out.println(new Version().getVersion()[0]);
            return;
        }
        System.exit(run(args));
    }

    static int run(String[] args) {
        CommandLine cl = new CommandLine(new CreateosCli());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            Throwable cause = e;
            while ((cause instanceof java.util.concurrent.CompletionException
                    || cause instanceof java.lang.reflect.UndeclaredThrowableException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            int exit = ExitCodes.of(cause);
            Output.error(exit, cause.getMessage() == null ? cause.toString() : cause.getMessage());
            if (System.getenv("CREATEOS_DEBUG") != null) {
                cause.printStackTrace();
            }
            return exit;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            Output.error(ExitCodes.USAGE, e.getMessage());
            if (!Globals.structured()) {
                e.getCommandLine().usage(System.err);
            }
            return ExitCodes.USAGE;
        });
        return cl.execute(args);
    }

    /** The client for the flags, environment and profile in force, in that order. */
    static SandboxClient client() {
        Map<String, String> profile = CliConfig.load().active();
        String key = first(Globals.apiKey, System.getenv("CREATEOS_API_KEY"), System.getenv("CREATEOS_SANDBOX_API_KEY"),
                profile.get("api_key"));
        String url = first(Globals.apiUrl, System.getenv("CREATEOS_SANDBOX_URL"),
                System.getenv("CREATEOS_SANDBOX_BASE_URL"), profile.get("api_url"), SandboxClient.DEFAULT_BASE_URL);
        if (key == null) {
            throw new CliException(ExitCodes.AUTH,
                    "no API key: pass --api-key, set CREATEOS_API_KEY, or run `createos login --token KEY`");
        }
        Globals.resolvedKey = key;
        return SandboxClient.builder().baseUrl(url).apiKey(key).timeout(Duration.ofSeconds(120))
                .userAgent("createos-cli/" + SandboxClient.VERSION).build();
    }

    /** The profile default for {@code key}, or null. */
    static String profileDefault(String key) {
        return CliConfig.load().active().get(key);
    }

    static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return null;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"createos " + SandboxClient.VERSION};
        }
    }

    @Command(name = "login", mixinStandardHelpOptions = true,
            description = "Store an API key (0600) in the profile's config, checking it against the server.")
    static final class Login implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--token", required = true, paramLabel = "KEY", description = "the API key")
        String token;

        @Option(names = "--no-verify", description = "store without asking the server who the key is")
        boolean noVerify;

        @Override
        public Integer call() {
            CliConfig cfg = CliConfig.load();
            String name = cfg.activeName();
            Map<String, String> p = new LinkedHashMap<>(cfg.profiles.getOrDefault(name, Map.of()));
            p.put("api_key", token);
            if (Globals.apiUrl != null) {
                p.put("api_url", Globals.apiUrl);
            }
            String user = null;
            if (!noVerify) {
                String saved = Globals.apiKey;
                Globals.apiKey = token;
                try (SandboxClient c = clientFor(p)) {
                    user = c.whoami().userId();
                } finally {
                    Globals.apiKey = saved;
                }
            }
            cfg.profiles.put(name, p);
            if (cfg.profiles.size() == 1) {
                cfg.current = name;
            }
            cfg.save();
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("profile", name);
            if (user != null) {
                f.put("user_id", user);
            }
            Output.action("logged_in", f, "Logged in" + (user == null ? "" : " as " + user) + " (profile " + name
                    + ", " + CliConfig.file() + ")");
            return 0;
        }

        private static SandboxClient clientFor(Map<String, String> p) {
            String url = first(Globals.apiUrl, System.getenv("CREATEOS_SANDBOX_URL"),
                    System.getenv("CREATEOS_SANDBOX_BASE_URL"), p.get("api_url"), SandboxClient.DEFAULT_BASE_URL);
            return SandboxClient.builder().baseUrl(url).apiKey(p.get("api_key")).build();
        }
    }
}
