package sh.createos.sandbox.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.ingress.IngressConfig;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;
import sh.createos.sandbox.server.ssh.SshConfig;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * {@code serve [--data-dir DIR] [--listen HOST:PORT] [--database-url URL] [--ingress-… …]} and
 * {@code admin user create EMAIL [--sandbox-limit N] | user list | key create USER | key revoke KEY_ID}.
 * Options fall back to CREATEOS_SANDBOX_DATA_DIR, CREATEOS_SANDBOX_LISTEN, CREATEOS_SANDBOX_DATABASE_URL and the like.
 */
public final class ServerMain {
    private static final String USAGE = """
            usage: createos-sandbox serve [--data-dir DIR] [--listen HOST:PORT] [--database-url URL]
                                          [--host-token-file FILE [--remote-hosts ID=HOST:PORT,…]
                                           [--host-tls-dir DIR | --plaintext-loopback] [--host-dead-after-seconds N]]
                                          [--auto-pause-min-seconds N] [--network on|off] [--egress-open-private CIDR,…]
                                          [--ingress-listen HOST:PORT|off] [--ingress-domain DOMAIN]
                                          [--ingress-tls-cert PEM --ingress-tls-key PEM
                                           | --ingress-tls-keystore FILE [--ingress-tls-keystore-password P]]
                                          [--ssh-listen HOST:PORT|off] [--ssh-max-auth-attempts N]
                                          [--ssh-idle-timeout-seconds N] [--ssh-max-sessions-per-sandbox N]
                                          [--ssh-max-channels-per-connection N]
                                          [--template-registry HOST[:PORT]|http://HOST[:PORT]]…
                   createos-sandbox admin [--data-dir DIR] [--database-url URL] COMMAND
                   createos-sandbox host [--data-dir DIR] [--listen HOST:PORT] --token-file FILE [--network on|off]
                                         [--host-id ID] [--tls-dir DIR | --plaintext-loopback] [--labels K=V,…]
                                         [--control-plane URL,… [--advertise HOST:PORT] [--heartbeat-seconds N]]
                                         [--overlay-address IP]
                                         (this machine's engine served over gRPC to a control plane)
                   createos-sandbox host-cert ID [--address IP|DNS,…] [--out DIR]
                                         (a host daemon's TLS files from this control plane's CA)
            admin commands:
                   user create EMAIL [--sandbox-limit N]
                   user list
                   key create USER          (user id or email; prints the new key once)
                   key revoke KEY_ID
            environment: CREATEOS_SANDBOX_DATA_DIR (default /var/lib/createos-sandbox),
                         CREATEOS_SANDBOX_LISTEN (default 127.0.0.1:8080), CREATEOS_SANDBOX_DATABASE_URL,
                         CREATEOS_SANDBOX_AUTO_PAUSE_MIN_SECONDS (default 60, the spec's minimum),
                         CREATEOS_SANDBOX_NETWORK (default on: taps, nftables, DNS forwarder),
                         CREATEOS_SANDBOX_INGRESS_LISTEN (default 127.0.0.1:8081; off: no ingress),
                         CREATEOS_SANDBOX_INGRESS_DOMAIN (default sb.localhost), CREATEOS_SANDBOX_INGRESS_TLS_CERT,
                         CREATEOS_SANDBOX_INGRESS_TLS_KEY, CREATEOS_SANDBOX_INGRESS_TLS_KEYSTORE,
                         CREATEOS_SANDBOX_INGRESS_TLS_KEYSTORE_PASSWORD,
                         CREATEOS_SANDBOX_SSH_LISTEN (default 127.0.0.1:2222; off: no SSH gateway),
                         CREATEOS_SANDBOX_SSH_MAX_AUTH_ATTEMPTS (default 6), CREATEOS_SANDBOX_SSH_IDLE_TIMEOUT_SECONDS
                         (default 900), CREATEOS_SANDBOX_SSH_MAX_SESSIONS_PER_SANDBOX (default 10)""";

    private ServerMain() {}

    public static void main(String[] args) throws Exception {
        try {
            run(new ArrayList<>(List.of(args)));
        } catch (IllegalArgumentException e) {
            System.err.println("createos-sandbox: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }

    private static void run(List<String> args) throws Exception {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("missing command");
        }
        String command = args.remove(0);
        Path dataDir = Path.of(option(args, "--data-dir", "CREATEOS_SANDBOX_DATA_DIR", "/var/lib/createos-sandbox"));
        String databaseUrl = option(args, "--database-url", "CREATEOS_SANDBOX_DATABASE_URL", null);
        switch (command) {
            case "serve" -> {
                templateRegistries(args);
                serve(ServerConfig.of(dataDir,
                    option(args, "--listen", "CREATEOS_SANDBOX_LISTEN", ServerConfig.DEFAULT_LISTEN), databaseUrl)
                    .withAutoPauseMinSeconds(intOption(args, "--auto-pause-min-seconds",
                            "CREATEOS_SANDBOX_AUTO_PAUSE_MIN_SECONDS", AutoPauseLimits.SPEC_MIN_SECONDS))
                    .withIngress(ingress(args)).withNetwork(network(args, dataDir)).withSsh(ssh(args)),
                    remoteHosts(args, dataDir), args);
            }
            case "host" -> hostDaemon(dataDir, args);
            case "host-cert" -> hostCert(dataDir, args);
            case "admin" -> admin(ServerConfig.of(dataDir, ServerConfig.DEFAULT_LISTEN, databaseUrl), args);
            case "help", "--help", "-h" -> System.out.println(USAGE);
            default -> throw new IllegalArgumentException("unknown command '" + command + "'");
        }
    }

    private static void serve(ServerConfig config, java.util.function.Function<Store, sh.createos.sandbox.server.host.Host> hosts,
            List<String> rest) throws Exception {
        noMore(rest);
        String host = config.host().equals("0.0.0.0") || config.host().equals("::") ? "127.0.0.1" : config.host();
        Path credentials = config.dataDir().resolve("credentials.env");
        ApiServer server = ApiServer.start(config, hosts, (store, port) -> {
            String baseUrl = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            if (new Accounts(store).bootstrapIfEmpty(credentials, baseUrl)) {
                System.out.println("created the bootstrap user " + Accounts.BOOTSTRAP_EMAIL + "; its key is in "
                        + credentials);
            }
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        server.join();
        stopped.await();
    }

    /**
     * {@code --host-token-file FILE} (with {@code --remote-hosts ID=HOST:PORT,…} and/or daemons that register
     * themselves): the host daemons to place sandboxes on instead of this machine, over mutual TLS with the files of
     * {@code --host-tls-dir} (default DATA_DIR/host-tls, created when absent), or {@code --plaintext-loopback}; null
     * when neither option is given (this machine alone).
     */
    private static java.util.function.Function<Store, sh.createos.sandbox.server.host.Host> remoteHosts(
            List<String> args, Path dataDir) throws java.io.IOException {
        String list = option(args, "--remote-hosts", "CREATEOS_SANDBOX_REMOTE_HOSTS", null);
        String tokenFile = option(args, "--host-token-file", "CREATEOS_SANDBOX_HOST_TOKEN_FILE", null);
        String tlsDir = option(args, "--host-tls-dir", "CREATEOS_SANDBOX_HOST_TLS_DIR",
                dataDir.resolve("host-tls").toString());
        boolean plaintext = flag(args, "--plaintext-loopback");
        int deadAfter = intOption(args, "--host-dead-after-seconds", "CREATEOS_SANDBOX_HOST_DEAD_AFTER_SECONDS", 10);
        if (list == null && tokenFile == null) {
            return null;
        }
        if (tokenFile == null) {
            throw new IllegalArgumentException("--remote-hosts needs --host-token-file FILE");
        }
        String token = java.nio.file.Files.readString(Path.of(tokenFile)).strip();
        List<java.util.Map.Entry<String, ListenAddress>> named = new ArrayList<>();
        for (String entry : list == null ? new String[0] : list.split(",")) {
            String[] idAndAddress = entry.trim().split("=", 2);
            if (idAndAddress.length != 2 || !idAndAddress[0].matches("[a-z0-9][a-z0-9-]{0,62}")) {
                throw new IllegalArgumentException("--remote-hosts wants ID=HOST:PORT entries (ID: a-z, 0-9, '-'), "
                        + "not '" + entry + "'");
            }
            named.add(java.util.Map.entry(idAndAddress[0], ListenAddress.parse(idAndAddress[1], "--remote-hosts")));
        }
        sh.createos.sandbox.server.remote.HostTls tls = plaintext ? null
                : sh.createos.sandbox.server.remote.HostPki.open(Path.of(tlsDir)).controlPlane();
        return sh.createos.sandbox.server.remote.ControlPlaneHosts.of(named, token, tls,
                java.time.Duration.ofSeconds(deadAfter));
    }

    /**
     * {@code host}: this machine's engine as a gRPC host daemon. Its VMs belong to the machine: stopping the daemon
     * leaves them running, and the next start re-attaches them (through the control plane's reconcile). With
     * {@code --control-plane URL} it registers there and heartbeats.
     */
    private static void hostDaemon(Path dataDir, List<String> args) throws Exception {
        ListenAddress listen = ListenAddress.parse(option(args, "--listen", "CREATEOS_SANDBOX_HOST_LISTEN",
                "127.0.0.1:7070"), "--listen");
        String tokenFile = option(args, "--token-file", "CREATEOS_SANDBOX_HOST_TOKEN_FILE", null);
        if (tokenFile == null) {
            throw new IllegalArgumentException("host needs --token-file FILE (the token the control plane presents)");
        }
        String hostId = option(args, "--host-id", "CREATEOS_SANDBOX_HOST_ID", defaultHostId());
        Path tlsDir = Path.of(option(args, "--tls-dir", "CREATEOS_SANDBOX_HOST_TLS_DIR",
                dataDir.resolve("host-tls").toString()));
        boolean plaintext = flag(args, "--plaintext-loopback");
        String controlPlane = option(args, "--control-plane", "CREATEOS_SANDBOX_CONTROL_PLANE", null);
        String advertise = option(args, "--advertise", "CREATEOS_SANDBOX_HOST_ADVERTISE", null);
        java.util.Map<String, String> labels = labels(option(args, "--labels", "CREATEOS_SANDBOX_HOST_LABELS", ""));
        int heartbeatSeconds = intOption(args, "--heartbeat-seconds", "CREATEOS_SANDBOX_HOST_HEARTBEAT_SECONDS", 2);
        String overlayAddress = option(args, "--overlay-address", "CREATEOS_SANDBOX_HOST_OVERLAY_ADDRESS",
                defaultOverlayAddress(listen, advertise));
        NetworkConfig network = network(args, dataDir);
        noMore(args);
        String token = java.nio.file.Files.readString(Path.of(tokenFile)).strip();
        sh.createos.sandbox.server.remote.HostTls tls = plaintext ? null : hostTls(tlsDir, hostId, listen, advertise);
        sh.createos.sandbox.server.host.LocalHost local = sh.createos.sandbox.server.host.LocalHost.open(
                dataDir.toAbsolutePath().normalize(), network).useOverlayAddress(overlayAddress);
        var daemon = sh.createos.sandbox.server.remote.HostDaemon.start(local,
                new sh.createos.sandbox.server.remote.HostDaemon.Config(hostId,
                        new java.net.InetSocketAddress(listen.host(), listen.port()), token, tls, labels));
        String advertised = advertise != null ? advertise : listen.host() + ":" + daemon.port();
        var heartbeat = controlPlane == null ? null : sh.createos.sandbox.server.remote.HostHeartbeat.start(
                java.util.Arrays.stream(controlPlane.split(",")).map(String::strip).filter(u -> !u.isEmpty())
                        .map(java.net.URI::create).toList(), hostId, advertised, labels, token,
                java.time.Duration.ofSeconds(heartbeatSeconds));
        System.out.println("host daemon " + hostId + " listening on " + listen.host() + ":" + daemon.port() + " ("
                + (tls == null ? "PLAINTEXT on loopback" : "mutual TLS") + ", data " + dataDir + ", "
                + local.problem().map(p -> "NOT READY: " + p).orElse("ready")
                + (controlPlane == null ? "" : ", heartbeating to " + controlPlane + " as " + advertised) + ")");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (heartbeat != null) {
                heartbeat.close();
            }
            daemon.close();
            local.detachAll();
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }

    /**
     * Where other machines send this one's private-network overlay traffic: the {@code --listen} address when it is
     * one IPv4 address of this machine, else the {@code --advertise} host when that is one; else none (networks
     * then cannot span this machine).
     */
    private static String defaultOverlayAddress(ListenAddress listen, String advertise) {
        List<String> candidates = new ArrayList<>(List.of(listen.host()));
        if (advertise != null) {
            candidates.add(ListenAddress.parse(advertise, "--advertise").host());
        }
        return candidates.stream().filter(sh.createos.sandbox.host.net.Ipv4Cidr::isAddress)
                .filter(a -> !a.equals("0.0.0.0") && !a.startsWith("127.")).findFirst().orElse(null);
    }

    /** This machine's name as a host id (a DNS label). */
    private static String defaultHostId() {
        try {
            String name = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).strip()
                    .toLowerCase(java.util.Locale.ROOT).split("\\.")[0].replaceAll("[^a-z0-9-]", "-");
            return name.isEmpty() ? "host" : name;
        } catch (java.io.IOException e) {
            return "host";
        }
    }

    /** {@code --labels k=v,k=v}. */
    private static java.util.Map<String, String> labels(String list) {
        java.util.Map<String, String> labels = new java.util.TreeMap<>();
        for (String entry : list.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String[] kv = entry.strip().split("=", 2);
            if (kv.length != 2 || kv[0].isEmpty()) {
                throw new IllegalArgumentException("--labels wants KEY=VALUE,…, not '" + entry + "'");
            }
            labels.put(kv[0], kv[1]);
        }
        return labels;
    }

    /**
     * The daemon's TLS files in {@code dir} ({@code ca.pem}, {@code host.pem}, {@code host.key}); on the CA's own
     * machine (its key is there) a certificate for the host id is issued when none is.
     */
    private static sh.createos.sandbox.server.remote.HostTls hostTls(Path dir, String hostId, ListenAddress listen,
            String advertise) throws java.io.IOException {
        if (!java.nio.file.Files.exists(dir.resolve(sh.createos.sandbox.server.remote.HostPki.HOST_CERT))) {
            if (!sh.createos.sandbox.server.remote.HostPki.canSign(dir)) {
                throw new IllegalArgumentException("no host certificate in " + dir + ": on the control plane's "
                        + "machine run `createos-sandbox host-cert " + hostId + " --address ADDRESS --out DIR` and copy "
                        + "DIR here (ca.pem, host.pem, host.key), or give --tls-dir DIR; --plaintext-loopback for "
                        + "a daemon on 127.0.0.1 only");
            }
            List<String> addresses = new ArrayList<>(List.of("127.0.0.1", "localhost"));
            if (!listen.host().equals("0.0.0.0")) {
                addresses.add(listen.host());
            }
            if (advertise != null) {
                addresses.add(ListenAddress.parse(advertise, "--advertise").host());
            }
            sh.createos.sandbox.server.remote.HostPki.open(dir).issueHost(hostId,
                    addresses.stream().distinct().toList(), dir);
        }
        return sh.createos.sandbox.server.remote.HostTls.hostIn(dir);
    }

    /** {@code host-cert ID [--address A,…] [--out DIR]}: a host daemon's TLS bundle from this control plane's CA. */
    private static void hostCert(Path dataDir, List<String> args) throws java.io.IOException {
        String tlsDir = option(args, "--host-tls-dir", "CREATEOS_SANDBOX_HOST_TLS_DIR",
                dataDir.resolve("host-tls").toString());
        String addresses = option(args, "--address", null, "");
        String out = option(args, "--out", null, null);
        String hostId = argument(args, 0, "ID");
        Path target = out != null ? Path.of(out) : Path.of(tlsDir).resolve("hosts").resolve(hostId);
        sh.createos.sandbox.server.remote.HostPki.open(Path.of(tlsDir)).issueHost(hostId,
                java.util.Arrays.stream(addresses.split(",")).map(String::strip).filter(a -> !a.isEmpty()).toList(),
                target);
        System.out.println("host " + hostId + ": ca.pem, host.pem, host.key in " + target
                + " (copy them to the host's DATA_DIR/host-tls, or pass --tls-dir)");
    }

    /** The host network ({@code --network on}, the default) or none ({@code off}: sandboxes have no network). */
    private static NetworkConfig network(List<String> args, Path dataDir) throws java.io.IOException {
        String mode = option(args, "--network", "CREATEOS_SANDBOX_NETWORK", "on");
        return switch (mode) {
            case "on" -> NetworkConfig.defaults(dataDir.toAbsolutePath().normalize())
                    .withOpenedPrivate(openedPrivate(option(args, "--egress-open-private",
                            "CREATEOS_SANDBOX_EGRESS_OPEN_PRIVATE", "")));
            case "off" -> null;
            default -> throw new IllegalArgumentException("--network wants on or off, not '" + mode + "'");
        };
    }

    /** {@code --egress-open-private CIDR,…}: private ranges sandboxes with open egress may reach (default none). */
    private static List<sh.createos.sandbox.host.net.Ipv4Cidr> openedPrivate(String list) {
        return java.util.Arrays.stream(list.split(",")).map(String::strip).filter(c -> !c.isEmpty())
                .map(sh.createos.sandbox.host.net.Ipv4Cidr::parse).toList();
    }

    /** The SSH gateway ({@code --ssh-listen}, default 127.0.0.1:2222; {@code off}: none) and its limits. */
    private static SshConfig ssh(List<String> args) {
        SshConfig ssh = SshConfig.of(option(args, "--ssh-listen", "CREATEOS_SANDBOX_SSH_LISTEN", SshConfig.DEFAULT_LISTEN));
        int attempts = intOption(args, "--ssh-max-auth-attempts", "CREATEOS_SANDBOX_SSH_MAX_AUTH_ATTEMPTS",
                SshConfig.DEFAULT_MAX_AUTH_ATTEMPTS);
        int idle = intOption(args, "--ssh-idle-timeout-seconds", "CREATEOS_SANDBOX_SSH_IDLE_TIMEOUT_SECONDS",
                (int) SshConfig.DEFAULT_IDLE_TIMEOUT.toSeconds());
        int sessions = intOption(args, "--ssh-max-sessions-per-sandbox", "CREATEOS_SANDBOX_SSH_MAX_SESSIONS_PER_SANDBOX",
                SshConfig.DEFAULT_MAX_SESSIONS_PER_SANDBOX);
        int channels = intOption(args, "--ssh-max-channels-per-connection",
                "CREATEOS_SANDBOX_SSH_MAX_CHANNELS_PER_CONNECTION", SshConfig.DEFAULT_MAX_CHANNELS_PER_CONNECTION);
        return ssh == null ? null : ssh.withLimits(attempts, java.time.Duration.ofSeconds(idle), sessions)
                .withMaxChannelsPerConnection(channels);
    }

    private static IngressConfig ingress(List<String> args) {
        String listen = option(args, "--ingress-listen", "CREATEOS_SANDBOX_INGRESS_LISTEN",
                IngressConfig.DEFAULT_LISTEN);
        String domain = option(args, "--ingress-domain", "CREATEOS_SANDBOX_INGRESS_DOMAIN",
                IngressConfig.DEFAULT_DOMAIN);
        String cert = option(args, "--ingress-tls-cert", "CREATEOS_SANDBOX_INGRESS_TLS_CERT", null);
        String key = option(args, "--ingress-tls-key", "CREATEOS_SANDBOX_INGRESS_TLS_KEY", null);
        String keyStore = option(args, "--ingress-tls-keystore", "CREATEOS_SANDBOX_INGRESS_TLS_KEYSTORE", null);
        String password = option(args, "--ingress-tls-keystore-password",
                "CREATEOS_SANDBOX_INGRESS_TLS_KEYSTORE_PASSWORD", null);
        IngressConfig.IngressTls tls = cert == null && key == null && keyStore == null ? null
                : new IngressConfig.IngressTls(path(keyStore), password, path(cert), path(key));
        return IngressConfig.of(listen, domain, tls);
    }

    private static Path path(String value) {
        return value == null ? null : Path.of(value);
    }

    private static void admin(ServerConfig config, List<String> args) {
        try (Store store = JdbcStore.open(config.effectiveDatabaseUrl())) {
            Accounts accounts = new Accounts(store);
            String what = args.isEmpty() ? "" : String.join(" ", args.subList(0, Math.min(2, args.size())));
            switch (what) {
                case "user create" -> {
                    int limit = Integer.parseInt(option(args, "--sandbox-limit", null,
                            String.valueOf(Accounts.DEFAULT_SANDBOX_LIMIT)));
                    User user = accounts.createUser(argument(args, 2, "EMAIL"), limit);
                    System.out.println(user.id() + "\t" + user.email() + "\tsandbox limit " + user.sandboxLimit());
                }
                case "user list" -> store.users().forEach(u ->
                        System.out.println(u.id() + "\t" + u.email() + "\tsandbox limit " + u.sandboxLimit()));
                case "key create" -> {
                    ApiKeys.Issued key = accounts.createKey(argument(args, 2, "USER"));
                    System.out.println(key.keyId() + "\t" + key.secret());
                }
                case "key revoke" -> {
                    String keyId = argument(args, 2, "KEY_ID");
                    if (!accounts.revokeKey(keyId)) {
                        throw new IllegalArgumentException("no active key " + keyId);
                    }
                    System.out.println("revoked " + keyId);
                }
                default -> throw new IllegalArgumentException("unknown admin command '" + what + "'");
            }
        }
    }

    /** Removes {@code --name VALUE} from {@code args}; else the environment variable; else the fallback. */
    private static String option(List<String> args, String name, String env, String fallback) {
        int i = args.indexOf(name);
        if (i >= 0) {
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            String value = args.get(i + 1);
            args.remove(i + 1);
            args.remove(i);
            return value;
        }
        String fromEnv = env == null ? null : System.getenv(env);
        return fromEnv != null && !fromEnv.isBlank() ? fromEnv : fallback;
    }

    /** Removes {@code --name} from {@code args}: whether it was there. */
    /**
     * {@code --template-registry HOST[:PORT]} or {@code http://HOST[:PORT]}, repeatable: the registries a template's
     * FROM may pull from. They become the template setting {@code registries} (which
     * CREATEOS_SANDBOX_TEMPLATE_REGISTRIES gives when no option does).
     */
    private static void templateRegistries(List<String> args) {
        List<String> registries = new ArrayList<>();
        while (args.contains("--template-registry")) {
            registries.add(option(args, "--template-registry", null, null));
        }
        if (!registries.isEmpty()) {
            String list = String.join(",", registries);
            sh.createos.sandbox.server.templates.TemplateSettings.registries(list); // refuses a bad entry now
            System.setProperty("createos.templates.registries", list);
        }
    }

    private static boolean flag(List<String> args, String name) {
        return args.remove(name);
    }

    private static int intOption(List<String> args, String name, String env, int fallback) {
        String value = option(args, name, env, String.valueOf(fallback));
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " wants a whole number, not '" + value + "'");
        }
    }

    private static String argument(List<String> args, int index, String name) {
        if (args.size() <= index) {
            throw new IllegalArgumentException("missing " + name);
        }
        noMore(args.subList(index + 1, args.size()));
        return args.get(index);
    }

    private static void noMore(List<String> rest) {
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unexpected arguments " + rest);
        }
    }
}
