package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.proc.Command;

/**
 * Issue 18: 8 concurrent buffered execs printing NUL bytes took the server from 165 MB to 2.8 GB, and it stayed there
 * (16 MiB kept per stream, then a String, then the whole JSON with every NUL escaped as six bytes). The bound now: at
 * most 4 MiB of each stream is kept, in chunks, and the JSON is encoded while it is sent, so 8 such execs run in a
 * server whose whole heap is capped at {@value #HEAP_MIB} MiB, each answer says its output was cut, and the live heap
 * afterwards is back near where it started.
 */
class ExecOutputMemoryTest {
    static final int HEAP_MIB = 256;
    private static final int OUTPUT_BYTES = 20_000_000;
    private static final int KEPT_BYTES = 4 * 1024 * 1024;
    @TempDir
    static Path dir;

    @Test
    void eightConcurrentExecsOfTwentyMegabytesOfNulsStayWithinTheHeapBound() throws Exception {
        TestApi.linkKit(dir);
        try (ServerProcess server = ServerProcess.start(dir, List.of("-Xmx" + HEAP_MIB + "m", "-XX:+UseG1GC"))) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String created = http.send(post(server, "/v1/sandboxes", "{\"shape\":\"s-1vcpu-512mb\"}"),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher id = Pattern.compile("\"id\":\"(sb_[0-9A-Z]+)\"").matcher(created);
            assertThat(id.find()).as(created).isTrue();
            String exec = "/v1/sandboxes/" + id.group(1) + "/exec";
            long before = liveHeapMib(server);
            List<Map<String, Object>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Map<String, Object>>> futures = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    futures.add(pool.submit(() -> summary(http.send(post(server, exec,
                            "{\"cmd\":\"head\",\"args\":[\"-c\",\"" + OUTPUT_BYTES + "\",\"/dev/zero\"]}"),
                            HttpResponse.BodyHandlers.ofInputStream()))));
                }
                for (Future<Map<String, Object>> f : futures) {
                    results.add(f.get());
                }
            }
            long after = liveHeapMib(server);
            System.out.printf("server live heap: %d MiB before, %d MiB after 8 execs of %d bytes (max heap %d MiB)%n",
                    before, after, OUTPUT_BYTES, HEAP_MIB);
            for (Map<String, Object> r : results) {
                assertThat(r.get("status")).as(r.toString()).isEqualTo(200);
                assertThat(r.get("exit_code")).as(r.toString()).isEqualTo(0);
                assertThat(r.get("stdout_chars")).as(r.toString()).isEqualTo(KEPT_BYTES);
                assertThat((String) r.get("error")).as(r.toString()).contains("output truncated")
                        .contains("stdout had " + OUTPUT_BYTES + " bytes");
            }
            // A stopped server leaves its VMs running (for the next start): destroy ours first.
            HttpResponse<String> deleted = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl()
                    + "/v1/sandboxes/" + id.group(1))).header("X-Api-Key", server.apiKey).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
            for (int i = 0; i < 300 && !http.send(HttpRequest.newBuilder(URI.create(server.baseUrl()
                    + "/v1/sandboxes/" + id.group(1))).header("X-Api-Key", server.apiKey).build(),
                    HttpResponse.BodyHandlers.ofString()).body().contains("\"destroyed\""); i++) {
                Thread.sleep(100);
            }
            assertThat(after).as("live heap after the execs").isLessThan(before + 32);
            assertThat(server.logExcerpt()).doesNotContain("OutOfMemoryError");
        }
    }

    private static HttpRequest post(ServerProcess server, String path, String body) {
        return HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(300))
                .header("X-Api-Key", server.apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Status, exit code, error and the length of stdout, read as a stream (the client keeps no copy). */
    private static Map<String, Object> summary(HttpResponse<InputStream> response) throws Exception {
        Map<String, Object> out = new HashMap<>();
        out.put("status", response.statusCode());
        try (InputStream body = response.body(); JsonParser json = new JsonFactory().createParser(body)) {
            for (JsonToken t; (t = json.nextToken()) != null; ) {
                if (t == JsonToken.FIELD_NAME) {
                    String name = json.currentName();
                    json.nextToken();
                    switch (name) {
                        case "stdout" -> out.put("stdout_chars", json.getTextLength());
                        case "exit_code" -> out.put("exit_code", json.getIntValue());
                        case "error", "message" -> out.put(name, json.getText());
                        default -> { }
                    }
                }
            }
        }
        return out;
    }

    /** The server's heap after a full GC, from {@code jcmd}. */
    private static long liveHeapMib(ServerProcess server) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Command.of(jcmd, Long.toString(server.pid()), "GC.run").run();
        String info = Command.of(jcmd, Long.toString(server.pid()), "GC.heap_info").run().stdout();
        Matcher used = Pattern.compile("used (\\d+)K").matcher(info);
        assertThat(used.find()).as(info).isTrue();
        return Long.parseLong(used.group(1)) / 1024;
    }
}
