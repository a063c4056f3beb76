package sh.createos.sandbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.sdk.CreateSandboxRequest;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;
import sh.createos.sandbox.server.ServerProcess;

/**
 * bench/cli.sh's second half: how long a running {@code sb sync} takes to carry a one-line edit (from the write
 * to its {@code upload} event) beside the wall time of {@code sb push} of the same file, alternated in one run
 * against a real server and sandbox.
 */
public final class CliSyncBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path dir = Files.createTempDirectory("cli-sync-bench");
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.createSymbolicLink(data.resolve("kit"), DataDir.fromEnvironment().resolve("kit"));
        Path home = Path.of(System.getenv().getOrDefault("CREATEOS_SANDBOX_HOME", ".")).toAbsolutePath();
        Path cp = dir.resolve("cli.classpath");
        Files.writeString(cp, System.getProperty("java.class.path"));
        try (ServerProcess server = ServerProcess.start(data);
             SandboxClient client = SandboxClient.builder().baseUrl(server.baseUrl()).apiKey(server.apiKey).build()) {
            Sandbox sb = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-512mb").build());
            try {
                Path local = Files.createDirectories(dir.resolve("proj"));
                Path file = local.resolve("notes.txt");
                Files.writeString(file, "line 0\n");
                List<String> base = List.of(home.resolve("bin/createos").toString(), "sandbox");
                ProcessBuilder sync = command(base, cp, dir, server, "sync", sb.id(), "--local", local.toString(),
                        "--remote", "/srv/bench");
                Process p = sync.redirectError(ProcessBuilder.Redirect.INHERIT).start();
                LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
                Thread reader = Thread.ofPlatform().daemon().start(() -> {
                    ObjectMapper json = new ObjectMapper();
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line; (line = r.readLine()) != null; ) {
                            events.add(json.readTree(line));
                        }
                    } catch (Exception e) {
                        // the process ended
                    }
                });
                await(events, "synced"); // the initial reconcile
                List<Long> syncMs = new ArrayList<>();
                List<Long> pushMs = new ArrayList<>();
                for (int i = 1; i <= runs; i++) {
                    events.clear();
                    long t0 = System.nanoTime();
                    Files.writeString(file, "line " + i + "\n", StandardOpenOption.APPEND);
                    await(events, "upload");
                    syncMs.add((System.nanoTime() - t0) / 1_000_000);
                    await(events, "synced");
                    long t1 = System.nanoTime();
                    Process push = command(base, cp, dir, server, "push", sb.id(), file.toString(), "/srv/pushed.txt")
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                    if (push.waitFor() != 0) {
                        throw new IllegalStateException("sb push exited " + push.exitValue());
                    }
                    pushMs.add((System.nanoTime() - t1) / 1_000_000);
                }
                p.destroy();
                p.waitFor();
                reader.join(5000);
                System.out.printf("runs: %d   load: %s%n", runs, Files.readString(Path.of("/proc/loadavg")).trim());
                System.out.printf("sb sync, one-line edit carried  ms: %s   median %d%n", syncMs, median(syncMs));
                System.out.printf("sb push of the same file        ms: %s   median %d%n", pushMs, median(pushMs));
            } finally {
                sb.destroy();
            }
        }
    }

    private static ProcessBuilder command(List<String> base, Path cp, Path dir, ServerProcess server, String... args) {
        List<String> cmd = new ArrayList<>(base);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("CREATEOS_SANDBOX_URL", server.baseUrl());
        pb.environment().put("CREATEOS_API_KEY", server.apiKey);
        pb.environment().put("CREATEOS_CLI_CLASSPATH", "@" + cp);
        pb.environment().put("CREATEOS_CONFIG_DIR", dir.resolve("config").toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb;
    }

    private static void await(LinkedBlockingQueue<JsonNode> events, String kind) throws InterruptedException {
        while (true) {
            JsonNode e = events.poll(300, TimeUnit.SECONDS);
            if (e == null) {
                throw new IllegalStateException("no " + kind + " event from sb sync within 300 s");
            }
            if (kind.equals(e.path("event").asText())) {
                return;
            }
        }
    }

    private static long median(List<Long> v) {
        List<Long> s = v.stream().sorted().toList();
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }
}
