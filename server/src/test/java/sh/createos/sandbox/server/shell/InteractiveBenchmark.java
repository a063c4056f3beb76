package sh.createos.sandbox.server.shell;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;
import static sh.createos.sandbox.server.TestApi.map;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.server.TestApi;

/**
 * In one run against one sandbox: the keystroke echo round trip through {@code /shell} (one data frame with one
 * character until the PTY echoes it) beside a buffered exec round trip of {@code true}; and the throughput of a
 * tunnel download of a guest file (a node server streams it) beside {@code GET /files} of the same file.
 * Usage: {@code InteractiveBenchmark [RUNS] [KEYSTROKES] [MIB]}; bench/interactive.sh runs it.
 */
public final class InteractiveBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int mib = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        Path shared = DataDir.fromEnvironment();
        Path dataDir = Files.createTempDirectory(shared.resolve("tmp"), "xb-");
        try (TestApi api = TestApi.start(dataDir, true)) {
            TestApi.Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb"));
            if (created.status() != 200) {
                throw new IllegalStateException("creating the sandbox failed: " + created);
            }
            String base = "/v1/sandboxes/" + created.data().get("id").asText();
            exec(api, base, "bash", "-c", "head -c " + mib + "M /dev/urandom >/root/blob; nohup setsid node -e "
                    + "\"require('net').createServer(s=>{s.on('error',()=>{});"
                    + "require('fs').createReadStream('/root/blob').pipe(s)})"
                    + ".listen(5007)\" >/dev/null 2>&1 & for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/5007)"
                    + " 2>/dev/null && exit 0; sleep 0.2; done; exit 1");
            System.out.printf("%d runs: %d keystrokes, %d exec round trips, a %d MiB download each way; load %s%n",
                    runs, keys, keys, mib, loadAverage());
            System.out.printf("%4s %16s %14s %18s %18s %20s%n", "run", "pty_echo_ms", "exec_ms", "files_MiB_per_s",
                    "tunnel_MiB_per_s", "in_guest_MiB_per_s");
            List<Double> echo = new ArrayList<>();
            List<Double> execs = new ArrayList<>();
            List<Double> files = new ArrayList<>();
            List<Double> tunnel = new ArrayList<>();
            List<Double> inGuest = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                echo.add(echoMillis(api, base, keys));
                execs.add(execMillis(api, base, keys));
                files.add(filesMibPerSecond(api, base, mib));
                tunnel.add(tunnelMibPerSecond(api, base, mib));
                inGuest.add(inGuestMibPerSecond(api, base, mib));
                System.out.printf("%4d %16.2f %14.2f %18.1f %18.1f %20.1f%n", run, echo.getLast(), execs.getLast(),
                        files.getLast(), tunnel.getLast(), inGuest.getLast());
            }
            System.out.printf("median round trip: keystroke echo %.2f ms, exec %.2f ms (%.2f x)%n", medianOf(echo),
                    medianOf(execs), medianOf(echo) / medianOf(execs));
            System.out.printf("median download: files %.1f MiB/s, tunnel %.1f MiB/s (%.2f x)%n", medianOf(files),
                    medianOf(tunnel), medianOf(tunnel) / medianOf(files));
            System.out.printf("the guest's node server read from inside the guest (no agent, no host): %.1f MiB/s%n",
                    medianOf(inGuest));
            System.out.printf("load average at the end: %s%n", loadAverage());
        } finally {
            try (var paths = Files.walk(dataDir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void exec(TestApi api, String base, String cmd, String... args) throws Exception {
        TestApi.Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", cmd, "args", List.of(args)));
        if (reply.status() != 200 || reply.data().get("result").get("exit_code").asInt() != 0) {
            throw new IllegalStateException(cmd + " " + List.of(args) + " failed: " + reply);
        }
    }

    private static double execMillis(TestApi api, String base, int n) throws Exception {
        List<Double> took = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long started = System.nanoTime();
            exec(api, base, "true");
            took.add((System.nanoTime() - started) / 1e6);
        }
        return medianOf(took);
    }

    private static double echoMillis(TestApi api, String base, int n) throws Exception {
        try (Socket socket = upgrade(api, base + "/shell")) {
            InputStream in = socket.getInputStream();
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            skipHead(in);
            type(out, "PS1='$ '; echo READY-$((1+1))\r");
            readUntil(in, "READY-2");
            List<Double> took = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                char key = (char) ('a' + i % 26);
                long started = System.nanoTime();
                type(out, String.valueOf(key));
                readUntil(in, String.valueOf(key));
                took.add((System.nanoTime() - started) / 1e6);
            }
            type(out, "\u0015exit\r"); // Ctrl-U clears the typed line
            return medianOf(took);
        }
    }

    private static double filesMibPerSecond(TestApi api, String base, int mib) throws Exception {
        long started = System.nanoTime();
        HttpResponse<InputStream> response = api.client().send(TestApi.withKey(
                api.request(base + "/files?path=%2Froot%2Fblob"), api.aliceKey).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        long got;
        try (InputStream body = response.body()) {
            got = body.transferTo(OutputStream.nullOutputStream());
        }
        return rate(got, mib, started);
    }

    private static double tunnelMibPerSecond(TestApi api, String base, int mib) throws Exception {
        long started = System.nanoTime();
        long got;
        try (Socket socket = upgrade(api, base + "/tunnel/5007")) {
            InputStream in = socket.getInputStream();
            skipHead(in);
            got = in.transferTo(OutputStream.nullOutputStream());
        }
        return rate(got, mib, started);
    }

    /** The same download from the same guest server, read by bash inside the guest: what the server itself gives. */
    private static double inGuestMibPerSecond(TestApi api, String base, int mib) throws Exception {
        TestApi.Reply reply = api.post(base + "/exec", api.aliceKey, map("cmd", "bash", "args", List.of("-c",
                "s=$(date +%s%N); exec 3<>/dev/tcp/127.0.0.1/5007; n=$(wc -c <&3); e=$(date +%s%N);"
                        + " echo $n $(( (e - s) / 1000 ))")));
        String[] out = reply.data().get("result").get("stdout").asText().trim().split(" ");
        if (Long.parseLong(out[0]) != (long) mib << 20) {
            throw new IllegalStateException("in-guest download got " + out[0] + " bytes: " + reply);
        }
        return mib / (Long.parseLong(out[1]) / 1e6);
    }

    private static double rate(long got, int mib, long started) {
        if (got != (long) mib << 20) {
            throw new IllegalStateException("downloaded " + got + " of " + ((long) mib << 20) + " bytes");
        }
        return mib / ((System.nanoTime() - started) / 1e9);
    }

    private static Socket upgrade(TestApi api, String path) throws IOException {
        Socket socket = new Socket("127.0.0.1", api.server.port());
        socket.setSoTimeout(120_000);
        socket.setTcpNoDelay(true);
        socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: " + api.aliceKey
                + "\r\nConnection: Upgrade\r\nUpgrade: tcp-tunnel\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        return socket;
    }

    private static void skipHead(InputStream in) throws IOException {
        String head = readUntil(in, "\r\n\r\n");
        if (!head.startsWith("HTTP/1.1 101")) {
            throw new IllegalStateException("no upgrade: " + head);
        }
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        StringBuilder seen = new StringBuilder();
        while (seen.indexOf(end) < 0) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection ended before " + end + ": " + seen);
            }
            seen.append((char) b);
        }
        return seen.toString();
    }

    private static void type(DataOutputStream out, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.writeByte(0);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }
}
