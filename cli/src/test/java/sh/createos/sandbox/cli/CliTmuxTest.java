package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.server.ServerProcess;

/**
 * The real {@code bin/createos} (as {@code sb}) in tmux against a real server in its own JVM with real VMs: one
 * sandbox for the class, the verbs in the order a user would run them, every JSON output parsed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliTmuxTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CMD = Duration.ofSeconds(180);
    private static final String NAME = "clitest";

    @TempDir
    static Path dir;
    private ServerProcess server;
    private Tmux tmux;
    private Path work;
    private Map<String, String> env;
    private String id;

    @BeforeAll
    void start() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Files.createSymbolicLink(data.resolve("kit"), DataDir.fromEnvironment().resolve("kit"));
        server = ServerProcess.start(data);
        work = Files.createDirectories(dir.resolve("work"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path home = Path.of(System.getProperty("maven.multiModuleProjectDirectory",
                System.getenv().getOrDefault("CREATEOS_SANDBOX_HOME", "..")));
        Files.createSymbolicLink(bin.resolve("sb"), home.resolve("bin/createos").toAbsolutePath());
        Path classpath = dir.resolve("cli.classpath");
        Files.writeString(classpath, System.getProperty("java.class.path"));
        env = Map.of("PATH", bin + ":/usr/local/bin:/usr/bin:/bin",
                "CREATEOS_SANDBOX_URL", server.baseUrl(),
                "CREATEOS_API_KEY", server.apiKey,
                "CREATEOS_CLI_CLASSPATH", "@" + classpath,
                "CREATEOS_CONFIG_DIR", dir.resolve("config").toString(),
                "JAVA_HOME", System.getProperty("java.home"),
                "TERM", "xterm-256color", "CREATEOS_DEBUG", "1");
        tmux = new Tmux(env, work);
    }

    @AfterAll
    void stop() throws Exception {
        if (tmux != null) {
            tmux.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Runs a command line in the main window with stdout to a file; returns [exit status, stdout]. */
    private String[] run(String tag, String line) throws Exception {
        tmux.type("main", "(" + line + ") > " + tag + ".out 2> " + tag + ".err; echo $? > " + tag + ".rc");
        String rc = Tmux.awaitFile(work.resolve(tag + ".rc"), CMD);
        return new String[] {rc, Files.readString(work.resolve(tag + ".out")), Files.readString(work.resolve(tag + ".err"))};
    }

    @Test
    @Order(1)
    void createListGet() throws Exception {
        String[] created = run("create", "sb create --shape s-1vcpu-512mb --name " + NAME + " --env GREETING=unset -o json");
        assertThat(created[0]).as(created[1]).isEqualTo("0");
        JsonNode c = JSON.readTree(created[1]);
        assertThat(c.get("action").asText()).isEqualTo("created");
        id = c.get("id").asText();
        assertThat(c.at("/sandbox/status").asText()).isEqualTo("running");

        // Not a terminal: JSON by default.
        String[] ls = run("ls", "sb ls");
        assertThat(ls[0]).isEqualTo("0");
        JsonNode rows = JSON.readTree(ls[1]);
        assertThat(rows.isArray()).isTrue();
        assertThat(rows.findValuesAsText("name")).contains(NAME);

        // A terminal: the table.
        tmux.type("main", "clear; sb ls");
        tmux.awaitScreen("main", s -> s.contains("STATUS") && s.contains(NAME) && s.contains("running"), CMD,
                "the sb ls table");

        String[] get = run("get", "sb get " + NAME + " -o yaml");
        assertThat(get[0]).isEqualTo("0");
        assertThat(get[1]).contains("id: \"" + id + "\"").contains("name: \"" + NAME + "\"");

        String[] missing = run("missing", "sb get no-such-sandbox -o json");
        assertThat(missing[0]).isEqualTo("5");
        assertThat(JSON.readTree(missing[1]).at("/error/code").asText()).isEqualTo("not_found");
    }

    @Test
    @Order(2)
    void execMirrorsTheExitCodeAndTakesStdinAndEnv() throws Exception {
        String[] five = run("exec5", "sb exec " + NAME + " -- sh -c 'echo out; exit 5'");
        assertThat(five[0]).isEqualTo("5");
        assertThat(five[1]).isEqualTo("out\n");

        Files.writeString(work.resolve("in.txt"), "from a file\n");
        String[] stdin = run("execin", "echo piped | sb exec " + NAME + " --stdin - --env GREETING=hi -- sh -c 'cat; echo $GREETING'");
        assertThat(stdin[0]).as(stdin[2]).isEqualTo("0");
        assertThat(stdin[1]).isEqualTo("piped\nhi\n");
    }

    @Test
    @Order(3)
    void pushAndPull50MiB() throws Exception {
        byte[] data = new byte[50 << 20];
        new Random(13).nextBytes(data);
        Files.write(work.resolve("big.bin"), data);
        String[] push = run("push", "sb push " + NAME + " big.bin /tmp/big.bin");
        assertThat(push[0]).as(push[1]).isEqualTo("0");
        JsonNode p = JSON.readTree(push[1]);
        assertThat(p.get("action").asText()).isEqualTo("uploaded");
        assertThat(p.get("bytes").asLong()).isEqualTo(data.length);

        String[] pull = run("pull", "sb pull " + NAME + " /tmp/big.bin - > back.bin");
        assertThat(pull[0]).isEqualTo("0");
        assertThat(sha256(Files.newInputStream(work.resolve("back.bin")))).isEqualTo(sha256(new java.io.ByteArrayInputStream(data)));

        // stdin upload too, checked inside the guest.
        String[] pushStdin = run("pushin", "cat big.bin | sb push " + NAME + " - /tmp/big2.bin >/dev/null && sb exec "
                + NAME + " -- sha256sum /tmp/big2.bin");
        assertThat(pushStdin[0]).isEqualTo("0");
        assertThat(pushStdin[1]).startsWith(sha256(new java.io.ByteArrayInputStream(data)));
    }

    @Test
    @Order(3)
    void cpRecursiveBothWays() throws Exception {
        Files.createDirectories(work.resolve("tree/sub dir"));
        Files.writeString(work.resolve("tree/a.txt"), "alpha\n");
        Files.writeString(work.resolve("tree/sub dir/b.txt"), "beta\n");
        String[] up = run("cpup", "sb cp -r tree " + NAME + ":/tmp/cpdest");
        assertThat(up[0]).as(up[2]).isEqualTo("0");
        assertThat(JSON.readTree(up[1]).get("action").asText()).isEqualTo("copied");
        String[] cat = run("cpcat", "sb exec " + NAME + " -- cat '/tmp/cpdest/tree/sub dir/b.txt'");
        assertThat(cat[1]).isEqualTo("beta\n");
        String[] down = run("cpdown", "sb cp -r " + NAME + ":/tmp/cpdest/tree back");
        assertThat(down[0]).as(down[2]).isEqualTo("0");
        assertThat(Files.readString(work.resolve("back/tree/a.txt"))).isEqualTo("alpha\n");
        assertThat(Files.readString(work.resolve("back/tree/sub dir/b.txt"))).isEqualTo("beta\n");
        String[] noR = run("cpnor", "sb cp tree " + NAME + ":/tmp/x");
        assertThat(noR[0]).isEqualTo("2");
    }

    @Test
    @Order(4)
    void shellIsARealTerminal() throws Exception {
        tmux.newWindow("shell", env, work);
        tmux.type("shell", "sb shell " + NAME + "; echo $? > shell.rc");
        // The local bash prompt has a # too: wait for something only the remote shell prints.
        tmux.type("shell", "echo REMOTE-$((6*7))");
        tmux.awaitScreen("shell", s -> s.contains("REMOTE-42"), CMD, "the remote shell");
        tmux.type("shell", "stty size");
        tmux.awaitScreen("shell", s -> s.contains("40 120"), CMD, "the initial size 40 120");
        tmux.resize("shell", 100, 30);
        // The CLI hears of the resize by SIGWINCH, when it likes: ask the guest until its PTY has the new size.
        long resized = System.nanoTime() + CMD.toNanos();
        do {
            tmux.type("shell", "stty size");
            Thread.sleep(1000);
        } while (!tmux.screen("shell").contains("30 100") && System.nanoTime() < resized);
        tmux.awaitScreen("shell", s -> s.contains("30 100"), Duration.ofSeconds(5), "the resized 30 100");
        // Ctrl-C reaches the guest: the sleep ends at once, not after 600 s.
        tmux.type("shell", "sleep 600");
        // Only once the guest runs it: a ^C between bash's fork and the command's exec is lost to bash.
        String[] sleeping = run("sleeping", "for i in $(seq 150); do sb exec " + NAME
                + " -- pgrep -fx 'sleep 600' >/dev/null && exit 0; sleep 0.2; done; exit 1");
        assertThat(sleeping[0]).as("sleep 600 running in the guest: %s", sleeping[2]).isEqualTo("0");
        tmux.keys("shell", "C-c");
        tmux.type("shell", "echo after-$((20+22))");
        tmux.awaitScreen("shell", s -> s.contains("after-42"), Duration.ofSeconds(30), "the shell after Ctrl-C");
        // ~? lists the escapes and sends nothing.
        tmux.keys("shell", "~?");
        tmux.awaitScreen("shell", s -> s.contains("~.  end the session"), Duration.ofSeconds(30), "the escape help");
        tmux.type("shell", "exit 3");
        assertThat(Tmux.awaitFile(work.resolve("shell.rc"), CMD)).isEqualTo("3");

        // ~. after a newline ends a session from the client side.
        tmux.type("shell", "sb shell " + NAME + "; echo $? > shell2.rc");
        tmux.type("shell", "echo SECOND-$((7*7))");
        tmux.awaitScreen("shell", s -> s.contains("SECOND-49"), CMD, "the second remote shell");
        tmux.keys("shell", "Enter");
        tmux.keys("shell", "~.");
        assertThat(Tmux.awaitFile(work.resolve("shell2.rc"), CMD)).isEqualTo("0");
    }

    @Test
    @Order(5)
    void tunnelCarriesConcurrentConnectionsOnBothLoopbacks() throws Exception {
        String[] httpd = run("httpd", "sb exec " + NAME + " -- sh -c 'mkdir -p /srv && echo tunnel-ok > /srv/index.html"
                + " && cd /srv && setsid python3 -m http.server 8000 >/dev/null 2>&1 </dev/null &'"
                + " && sb wait " + NAME + " --for port:8000 --timeout 120");
        assertThat(httpd[0]).as(httpd[1]).isEqualTo("0");
        tmux.newWindow("tunnel", env, work);
        tmux.type("tunnel", "sb tunnel " + NAME + " --remote 8000 --local 0 > tunnel.out; echo $? > tunnel.rc");
        JsonNode open = null;
        long deadline = System.nanoTime() + CMD.toNanos();
        while (open == null && System.nanoTime() < deadline) {
            Path out = work.resolve("tunnel.out");
            if (Files.exists(out) && Files.readString(out).trim().endsWith("}")) {
                open = JSON.readTree(Files.readString(out));
            } else {
                Thread.sleep(200);
            }
        }
        assertThat(open).as("the tunnel's JSON line").isNotNull();
        assertThat(open.get("action").asText()).isEqualTo("tunnel_open");
        int port = open.get("local_port").asInt();
        List<String> listen = new ArrayList<>();
        open.get("listen").forEach(n -> listen.add(n.asText()));
        assertThat(listen).contains("127.0.0.1:" + port, "[::1]:" + port);

        HttpClient http = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String host = i % 2 == 0 ? "127.0.0.1" : "[::1]";
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/index.html"))
                    .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> r = call.join();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("tunnel-ok\n");
        }
        tmux.keys("tunnel", "C-c");
        assertThat(Tmux.awaitFile(work.resolve("tunnel.rc"), Duration.ofSeconds(60))).isEqualTo("0");
        assertThat(Files.readString(work.resolve("tunnel.out"))).contains("\"tunnel_closed\"");
    }

    @Test
    @Order(6)
    void shapesRootfsPauseWaitResume() throws Exception {
        String[] shapes = run("shapes", "sb shapes");
        assertThat(shapes[0]).isEqualTo("0");
        assertThat(JSON.readTree(shapes[1]).findValuesAsText("id")).contains("s-1vcpu-512mb");
        String[] rootfs = run("rootfs", "sb rootfs");
        assertThat(rootfs[0]).isEqualTo("0");
        assertThat(JSON.readTree(rootfs[1]).get("rootfs").isArray()).isTrue();
        String[] pause = run("pause", "sb pause " + NAME + " && sb wait " + NAME + " --for paused --timeout 120");
        assertThat(pause[0]).as(pause[2]).isEqualTo("0");
        assertThat(JSON.readTree(pause[1].substring(0, pause[1].indexOf("}\n") + 1)).get("action").asText())
                .isEqualTo("paused");
        String[] paused = run("paused", "sb ls --status paused -q");
        assertThat(paused[1].trim()).isEqualTo(id);
        String[] resume = run("resume", "sb resume " + NAME + " && sb exec " + NAME + " -- echo back");
        assertThat(resume[0]).as(resume[2]).isEqualTo("0");
        assertThat(resume[1]).endsWith("back\n");
        String[] timeout = run("waitto", "sb wait " + NAME + " --for port:9 --timeout 2");
        assertThat(timeout[0]).isEqualTo("8");
    }

    @Test
    @Order(7)
    void rmNeedsForceWhenNotInteractive() throws Exception {
        String[] refused = run("rm0", "sb rm " + NAME + " < /dev/null");
        assertThat(refused[0]).isEqualTo("2");
        String[] rm = run("rm", "sb rm " + NAME + " -f");
        assertThat(rm[0]).as(rm[1]).isEqualTo("0");
        JsonNode r = JSON.readTree(rm[1]);
        assertThat(r.get("action").asText()).isEqualTo("destroyed");
        assertThat(r.get("id").asText()).isEqualTo(id);
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (in) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
