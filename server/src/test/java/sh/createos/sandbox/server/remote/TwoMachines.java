package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.secrets.SecretBox;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.PostgresCluster;

/**
 * The replicated two-machine setup: two {@link NetnsMachine}s ({@code h1}, {@code h2}, labelled {@code zone=<id>})
 * with a host daemon each, heartbeating to two control-plane replicas ({@link #a}, {@link #b}) on one fresh database of the shared PostgreSQL; {@link #start} returns once both replicas see both hosts
 * active. {@link #close} stops everything and keeps the daemons' and replicas' logs in {@code target/<logsName>}.
 */
final class TwoMachines implements AutoCloseable {
    final String databaseUrl;
    private final String secretKey;
    final NetnsMachine m1;
    final NetnsMachine m2;
    final ReplicaProcess a;
    final ReplicaProcess b;
    /** An API key of the user the first replica bootstrapped. */
    final String key;
    private final Path dir;
    private final String logsName;
    private final List<AutoCloseable> open;

    private TwoMachines(Path dir, String logsName, String databaseUrl, String secretKey, List<AutoCloseable> open,
            NetnsMachine m1, NetnsMachine m2, ReplicaProcess a, ReplicaProcess b, String key) {
        this.dir = dir;
        this.secretKey = secretKey;
        this.logsName = logsName;
        this.databaseUrl = databaseUrl;
        this.open = open;
        this.m1 = m1;
        this.m2 = m2;
        this.a = a;
        this.b = b;
        this.key = key;
    }

    static TwoMachines start(Path dir, String logsName) throws Exception {
        String databaseUrl = PostgresCluster.shared().newDatabase();
        String secretKey = ReplicaProcess.newSecretKey();
        Path tokenFile = dir.resolve("host.token");
        Files.writeString(tokenFile, "t-" + Ulid.next());
        List<AutoCloseable> open = new ArrayList<>();
        try {
            NetnsMachine m1 = NetnsMachine.create("h1", dir.resolve("machine-one"));
            open.add(m1);
            NetnsMachine m2 = NetnsMachine.create("h2", dir.resolve("machine-two"));
            open.add(m2);
            TestApi.linkKit(m1.dataDir);
            TestApi.linkKit(m2.dataDir);
            HostPki pki = HostPki.open(dir.resolve("control-tls"));
            pki.issueHost("h1", List.of(m1.address()), dir.resolve("h1-tls"));
            pki.issueHost("h2", List.of(m2.address()), dir.resolve("h2-tls"));

            ReplicaProcess a = ReplicaProcess.start(dir.resolve("replica-a"), databaseUrl, secretKey, tokenFile,
                    dir.resolve("control-tls"), "0.0.0.0", List.of());
            open.add(0, a);
            String key = Files.readAllLines(dir.resolve("replica-a").resolve("credentials.env")).stream()
                    .filter(l -> l.startsWith("CREATEOS_SANDBOX_API_KEY=")).findFirst().orElseThrow()
                    .substring("CREATEOS_SANDBOX_API_KEY=".length());
            ReplicaProcess b = ReplicaProcess.start(dir.resolve("replica-b"), databaseUrl, secretKey, tokenFile,
                    dir.resolve("control-tls"), "0.0.0.0", List.of());
            open.add(0, b);
            for (NetnsMachine m : List.of(m1, m2)) {
                // The machine reaches the replicas at the root namespace's end of its link.
                String planes = "http://" + m.rootAddress() + ":" + a.port + ",http://" + m.rootAddress() + ":"
                        + b.port;
                m.startDaemon(dir.resolve(m.hostId + "-tls"), tokenFile, "zone=" + m.hostId, planes);
            }
            ReplicaCalls calls = new ReplicaCalls();
            calls.awaitHostsActive(a, key, 2);
            calls.awaitHostsActive(b, key, 2);
            return new TwoMachines(dir, logsName, databaseUrl, secretKey, open, m1, m2, a, b, key);
        } catch (Exception | Error e) {
            closeAll(open, e);
            keepLogs(dir, logsName);
            throw e;
        }
    }

    /** The replicas' database, read and written as they do (sandbox envs sealed with their key). */
    JdbcStore store() {
        return JdbcStore.open(databaseUrl).sealingEnvsWith(SecretBox.of(java.util.Base64.getDecoder().decode(secretKey)));
    }

    @Override
    public void close() throws Exception {
        try {
            closeAll(open, null);
        } finally {
            keepLogs(dir, logsName);
        }
    }

    private static void closeAll(List<AutoCloseable> open, Throwable failure) throws Exception {
        Exception first = null;
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure != null) {
                    failure.addSuppressed(e);
                } else if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** The daemons' and replicas' logs outlive the temporary directory. */
    private static void keepLogs(Path dir, String logsName) throws IOException {
        Path kept = Path.of("target", logsName);
        Files.createDirectories(kept);
        try (var files = Files.walk(dir)) {
            for (Path log : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                Files.copy(log, kept.resolve(dir.relativize(log).toString().replace('/', '_')),
                        StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
