package sh.createos.sandbox.server.remote;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import sh.createos.sandbox.server.Accounts;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.User;

/**
 * What spreading over host daemons costs and buys, in one run: {@code CREATES} creates in flight at once against a
 * control plane over one host daemon, then over two (sandboxes per second, time until all run), and the round trip
 * of an exec of {@code true} through a remote host daemon beside the same exec on the embedded local host.
 * Both daemons run on this machine (so two hosts share its cores: the figure shows the control plane's and the
 * daemons' overhead, not a second machine's capacity). Usage: {@code HostsBenchmark [CREATES] [EXECS]};
 * bench/hosts.sh runs it.
 */
public final class HostsBenchmark {
    private static final String SHAPE = "s-1vcpu-256mb";
    private static final Duration DEAD_AFTER = Duration.ofSeconds(10);

    public static void main(String[] args) throws Exception {
        int creates = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int execs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        // Short: a VM's QMP socket path must stay under 108 bytes (the data directory's tmp/ is too deep here).
        Path dir = Files.createTempDirectory("hb-");
        System.out.printf("%d creates in flight, shape %s, %d execs, load average %s%n", creates, SHAPE, execs,
                loadAverage());
        try {
            Result oneHost = overDaemons(dir.resolve("one"), 1, creates, execs);
            Result twoHosts = overDaemons(dir.resolve("two"), 2, creates, execs);
            double local = localExec(dir.resolve("local"), execs);
            System.out.printf("%-44s %10s %12s%n", "", "one host", "two hosts");
            System.out.printf("%-44s %10.1f %12.1f  (%.2f x)%n", "time until all " + creates + " run (s)",
                    oneHost.allRunningMs / 1000.0, twoHosts.allRunningMs / 1000.0,
                    (double) twoHosts.allRunningMs / oneHost.allRunningMs);
            System.out.printf("%-44s %10.2f %12.2f  (%.2f x)%n", "creates per second", oneHost.perSecond(creates),
                    twoHosts.perSecond(creates), twoHosts.perSecond(creates) / oneHost.perSecond(creates));
            System.out.printf("median exec round trip, embedded local host: %8.1f ms%n", local);
            System.out.printf("median exec round trip, remote host daemon:  %8.1f ms  (%.2f x)%n", oneHost.execMs,
                    oneHost.execMs / local);
            System.out.printf("load average at the end: %s%n", loadAverage());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private record Result(long allRunningMs, double execMs) {
        double perSecond(int creates) {
            return creates * 1000.0 / allRunningMs;
        }
    }

    /** A control plane over {@code count} daemons: the creates at once, then execs in the first sandbox. */
    private static Result overDaemons(Path dir, int count, int creates, int execs) throws Exception {
        String token = "t-" + Ulid.next();
        Path tokenFile = dir.resolve("host.token");
        Files.createDirectories(dir);
        Files.writeString(tokenFile, token + "\n");
        HostPki pki = HostPki.open(dir.resolve("control-tls"));
        List<HostDaemonProcess> daemons = new ArrayList<>();
        List<Path> machines = new ArrayList<>();
        try (TestApi api = TestApi.startOver(dir.resolve("control"),
                ControlPlaneHosts.of(List.of(), token, pki.controlPlane(), DEAD_AFTER))) {
            String url = "http://127.0.0.1:" + api.server.port();
            for (int i = 1; i <= count; i++) {
                Path machine = dir.resolve("m" + i);
                TestApi.linkKit(machine);
                machines.add(machine);
                pki.issueHost("h" + i, List.of("127.0.0.1"), dir.resolve("h" + i + "-tls"));
                daemons.add(HostDaemonProcess.start("h" + i, machine, dir.resolve("h" + i + "-tls"), tokenFile,
                        "n=" + i, url));
            }
            awaitActive(api, count);
            Accounts accounts = new Accounts(api.server.store());
            User bench = accounts.createUser("bench@example.com", creates + 1);
            String key = accounts.createKey(bench.id()).secret();
            // A warm-up create on each host, not counted (the first boot of a shape prepares its template).
            List<String> ids = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                ids.add(create(api, key, "h" + i));
            }
            for (String id : ids) {
                api.delete("/v1/sandboxes/" + id, key);
            }
            ids.clear();
            long started = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<String>> made = new ArrayList<>();
                for (int i = 0; i < creates; i++) {
                    made.add(pool.submit(() -> create(api, key, null)));
                }
                for (Future<String> f : made) {
                    ids.add(f.get());
                }
            }
            long allRunningMs = (System.nanoTime() - started) / 1_000_000;
            double execMs = medianExec(api, key, ids.getFirst(), execs);
            for (String id : ids) {
                api.delete("/v1/sandboxes/" + id, key);
            }
            return new Result(allRunningMs, execMs);
        } finally {
            for (HostDaemonProcess daemon : daemons) {
                daemon.close();
            }
            for (Path machine : machines) {
                HostDaemonProcess.wipe(machine);
            }
        }
    }

    private static double localExec(Path dir, int execs) throws Exception {
        try (TestApi api = TestApi.start(dir, true)) {
            String id = create(api, api.aliceKey, null);
            double ms = medianExec(api, api.aliceKey, id, execs);
            api.delete("/v1/sandboxes/" + id, api.aliceKey);
            return ms;
        }
    }

    private static String create(TestApi api, String key, String hostId) throws Exception {
        TestApi.Reply reply = api.post("/v1/sandboxes", key, hostId == null ? TestApi.map("shape", SHAPE)
                : TestApi.map("shape", SHAPE, "host_id", hostId));
        if (reply.status() != 200) {
            throw new IllegalStateException("create answered " + reply);
        }
        return reply.data().get("id").asText();
    }

    private static double medianExec(TestApi api, String key, String id, int execs) throws Exception {
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i <= execs; i++) {
            long started = System.nanoTime();
            TestApi.Reply reply = api.post("/v1/sandboxes/" + id + "/exec", key, TestApi.map("cmd", "true"));
            double ms = (System.nanoTime() - started) / 1e6;
            if (reply.status() != 200 || reply.data().path("result").path("exit_code").asInt(-1) != 0) {
                throw new IllegalStateException("exec of true answered " + reply);
            }
            if (i > 0) {
                samples.add(ms); // the first opens the agent connection
            }
        }
        return medianOf(samples);
    }

    private static void awaitActive(TestApi api, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            var hosts = api.get("/v1/hosts", api.aliceKey).data().get("data");
            int active = 0;
            for (var host : hosts) {
                active += host.get("status").asText().equals("active") ? 1 : 0;
            }
            if (active == count) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("hosts never all active: " + hosts);
            }
            Thread.sleep(250);
        }
    }
}
