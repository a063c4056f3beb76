package sh.createos.sandbox.server.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.store.SandboxRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/** The SSH gateway with Debian's OpenSSH client against a real server and one real sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SshGatewayTest {
    /** Above the 20 concurrent forwards of the -L case, low enough to reach in a test. */
    private static final int CHANNELS_PER_CONNECTION = 24;
    @TempDir
    static Path dir;
    @TempDir
    static Path keys;
    private TestApi api;
    private OpenSsh ssh;
    private Path aliceKey;
    private Path bobKey;
    private String id;

    @BeforeAll
    void bootOneSandbox() throws Exception {
        api = TestApi.start(dir, true, c -> c.withSsh(SshConfig.of("127.0.0.1:0")
                .withMaxChannelsPerConnection(CHANNELS_PER_CONNECTION)));
        ssh = new OpenSsh(api.server.sshPort());
        aliceKey = OpenSsh.keygen(keys, "alice");
        bobKey = OpenSsh.keygen(keys, "bob");
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "ssh-box",
                "ssh_pubkeys", List.of(OpenSsh.publicKey(aliceKey))));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        id = created.data().get("id").asText();
        byte[] script;
        try (InputStream in = getClass().getResourceAsStream("/guest/ingress-test-server.js")) {
            script = in.readAllBytes();
        }
        Reply put = api.send(TestApi.withKey(api.request("/v1/sandboxes/" + id + "/files?path=%2Froot%2Fsrv.js"),
                api.aliceKey).PUT(HttpRequest.BodyPublishers.ofByteArray(script)).build());
        assertThat(put.status()).as(put.toString()).isEqualTo(200);
        exec("bash", "-lc", "nohup setsid node /root/srv.js >/tmp/srv.log 2>&1 &");
        JsonNode ready = exec("bash", "-c", "for i in $(seq 150); do (echo >/dev/tcp/127.0.0.1/3000) 2>/dev/null"
                + " && exit 0; sleep 0.2; done; cat /tmp/srv.log; exit 1");
        assertThat(ready.get("result").get("exit_code").asInt()).as(ready.toString()).isZero();
    }

    private JsonNode exec(String cmd, String... args) throws Exception {
        Reply r = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", cmd, "args", List.of(args)));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.data();
    }

    @AfterAll
    void cleanUp() {
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void execPrintsTheGuestKernelAndKeepsTheExitStatus() throws Exception {
        Reply rest = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "uname", "args", List.of("-r")));
        String kernel = rest.data().get("result").get("stdout").asText().strip();
        OpenSsh.Result uname = ssh.exec(aliceKey, id, "uname -r");
        assertThat(uname.exit()).as(uname.toString()).isZero();
        assertThat(uname.stdout().strip()).isEqualTo(kernel);
        OpenSsh.Result seven = ssh.exec(aliceKey, "ssh-box", "exit 7");
        assertThat(seven.exit()).as(seven.toString()).isEqualTo(7);
    }

    @Test
    @Order(2)
    void ttyShowsTheRequestedSizeAndEnvRequestsPassOnlyTermAndLocale() throws Exception {
        // script(1) gives ssh a terminal of a known size; ssh -tt sends it in its pty-req.
        String sshLine = String.join(" ", ssh.ssh(aliceKey, id, "-tt")) + " 'stty size'";
        OpenSsh.Result tty = OpenSsh.run(List.of("script", "-q", "-e", "-c",
                "stty rows 33 cols 101; " + sshLine, "/dev/null"), null);
        assertThat(tty.exit()).as(tty.toString()).isZero();
        assertThat(tty.stdout()).contains("33 101");

        OpenSsh.Result env = ssh.exec(aliceKey, id, "echo \"$LANG|$LC_TIME|$FOO\"", "-o",
                "SetEnv=LANG=de_DE.UTF-8 LC_TIME=C FOO=bar");
        assertThat(env.stdout().strip()).as(env.toString()).isEqualTo("de_DE.UTF-8|C|");
    }

    @Test
    @Order(3)
    void windowChangeResizesTheGuestTerminal() throws Exception {
        // script(1) gives ssh a 33x101 terminal; once the guest has printed that size, a background job in the same
        // terminal resizes it to 50x132, ssh gets SIGWINCH and sends window-change, and the guest loop sees it.
        Path resizeNow = keys.resolve("resize-now");
        String remote = "stty size; i=0; while [ \"$(stty size)\" = \"33 101\" ] && [ $i -lt 600 ]; do sleep 0.1;"
                + " i=$((i+1)); done; echo now $(stty size)";
        String sshLine = String.join(" ", ssh.ssh(aliceKey, id, "-tt")) + " '" + remote + "'";
        String local = "stty rows 33 cols 101; (while [ ! -e " + resizeNow + " ]; do sleep 0.05; done;"
                + " stty rows 50 cols 132 </dev/tty) & exec " + sshLine;
        Process p = new ProcessBuilder("script", "-q", "-e", "-c", local, "/dev/null").redirectErrorStream(true)
                .start();
        try {
            Output out = new Output(p.getInputStream());
            out.await("33 101");
            Files.createFile(resizeNow);
            out.await("now 50 132");
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out.toString()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    @Order(3)
    void ctrlCInAPtyInterruptsTheForegroundProcess() throws Exception {
        // "ready" comes from the process the ^C must reach, once it runs with default signal handling. Printed by
        // bash itself before "sleep", the ^C could arrive before bash forked and exec'd sleep: bash then holds its
        // trap until sleep 60 ends, and the forked child drops the signal when it execs (seen as a hang, 2 in 10).
        List<String> argv = ssh.ssh(aliceKey, id, "-tt");
        argv.add("trap 'echo got-int; exit 3' INT; sh -c 'echo ready; exec sleep 60'");
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            Output out = new Output(p.getInputStream());
            out.await("ready");
            p.getOutputStream().write(3); // ^C: the guest's terminal turns it into SIGINT
            p.getOutputStream().flush();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out.toString()).isTrue();
            out.await("got-int");
            assertThat(p.exitValue()).isEqualTo(3);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    @Order(4)
    void sftpPutGetListRenameRemove() throws Exception {
        byte[] data = new byte[20 << 20];
        new Random(14).nextBytes(data);
        Path local = keys.resolve("big.bin");
        Files.write(local, data);
        Path back = keys.resolve("back.bin");
        OpenSsh.Result batch = ssh.sftpBatch(aliceKey, id, String.join("\n",
                "mkdir /root/up", "put " + local + " /root/up/big.bin", "ls -l /root/up",
                "rename /root/up/big.bin /root/up/moved.bin", "get /root/up/moved.bin " + back, "ls /root/up") + "\n");
        assertThat(batch.exit()).as(batch.toString()).isZero();
        assertThat(batch.stdout()).contains("big.bin").contains("20971520").contains("moved.bin");
        assertThat(sha256(Files.readAllBytes(back))).isEqualTo(sha256(data));
        JsonNode inGuest = exec("sha256sum", "/root/up/moved.bin");
        assertThat(inGuest.get("result").get("stdout").asText()).startsWith(sha256(data));

        OpenSsh.Result rm = ssh.sftpBatch(aliceKey, id, "rm /root/up/moved.bin\nrmdir /root/up\n");
        assertThat(rm.exit()).as(rm.toString()).isZero();
        OpenSsh.Result gone = ssh.sftpBatch(aliceKey, id, "ls /root/up\n");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.stderr()).contains("not found");

        // scp is SFTP underneath in OpenSSH 9
        Path small = keys.resolve("small.txt");
        Files.writeString(small, "via scp\n");
        List<String> scp = new ArrayList<>(List.of("scp", "-P", String.valueOf(api.server.sshPort())));
        scp.addAll(ssh.options(aliceKey));
        scp.addAll(List.of(small.toString(), id + "@127.0.0.1:/tmp/small.txt"));
        OpenSsh.Result copied = OpenSsh.run(scp, null);
        assertThat(copied.exit()).as(copied.toString()).isZero();
        assertThat(ssh.exec(aliceKey, id, "cat /tmp/small.txt").stdout()).isEqualTo("via scp\n");
    }

    @Test
    @Order(5)
    void localForwardServesTwentyConcurrentCurls() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        List<String> argv = ssh.ssh(aliceKey, id, "-N", "-L", port + ":localhost:3000", "-o", "ExitOnForwardFailure=yes");
        Process tunnel = new ProcessBuilder(argv).redirectErrorStream(true).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    break;
                } catch (java.io.IOException notYet) {
                    if (!tunnel.isAlive()) {
                        throw new AssertionError("ssh -L exited: " + new String(tunnel.getInputStream().readAllBytes()));
                    }
                    assertThat(System.nanoTime()).as("ssh -L listening").isLessThan(deadline);
                    Thread.sleep(100);
                }
            }
            List<Process> curls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                curls.add(new ProcessBuilder("curl", "-sS", "--max-time", "120", "http://127.0.0.1:" + port + "/hello")
                        .redirectErrorStream(true).start());
            }
            for (Process curl : curls) {
                assertThat(curl.waitFor(150, TimeUnit.SECONDS)).isTrue();
                String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(body).startsWith("hello from the guest");
                assertThat(curl.exitValue()).isZero();
            }
        } finally {
            tunnel.destroy();
            tunnel.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(5)
    void aConnectionHoldsAtMostItsChannelsAndFreesOnesThatClose() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        // to the guest's TCP echo server (port 4000 of ingress-test-server.js): a connection stays open until closed
        Process tunnel = startForward(port, 4000);
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < CHANNELS_PER_CONNECTION; i++) {
                Socket s = new Socket("127.0.0.1", port);
                held.add(s);
                assertThat(echoes(s, "ch" + i)).as("channel %d of %d", i + 1, CHANNELS_PER_CONNECTION).isTrue();
            }
            try (Socket over = new Socket("127.0.0.1", port)) {
                assertThat(echoes(over, "one-too-many")).as("a channel beyond the limit").isFalse();
            }
            held.removeFirst().close();
            Socket again = null;
            for (int i = 0; i < 100 && again == null; i++) { // the freed channel closes asynchronously
                Socket s = new Socket("127.0.0.1", port);
                if (echoes(s, "again")) {
                    again = s;
                } else {
                    s.close();
                    Thread.sleep(100);
                }
            }
            assertThat(again).as("a channel once one closed").isNotNull();
            held.add(again);
            assertThat(tunnel.isAlive()).as("the connection survives a refused channel").isTrue();
        } finally {
            for (Socket s : held) {
                s.close();
            }
            tunnel.destroy();
            tunnel.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** true when the line comes back through the forward, false when the forward was refused (closed, no bytes). */
    private static boolean echoes(Socket socket, String line) throws Exception {
        socket.setSoTimeout(120_000);
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        byte[] back;
        try {
            back = socket.getInputStream().readNBytes(line.length() + 1);
        } catch (java.net.SocketException reset) {
            return false; // ssh closed the refused one while our line was in flight
        }
        if (back.length == 0) {
            return false;
        }
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo(line + "\n");
        return true;
    }

    private Process startForward(int localPort, int guestPort) throws Exception {
        List<String> argv = ssh.ssh(aliceKey, id, "-N", "-L", localPort + ":localhost:" + guestPort, "-o",
                "ExitOnForwardFailure=yes");
        Process tunnel = new ProcessBuilder(argv).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket probe = new Socket("127.0.0.1", localPort)) {
                return tunnel;
            } catch (java.io.IOException notYet) {
                if (!tunnel.isAlive()) {
                    throw new AssertionError("ssh -L exited: " + new String(tunnel.getInputStream().readAllBytes()));
                }
                assertThat(System.nanoTime()).as("ssh -L listening").isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }

    @Test
    @Order(6)
    void wrongKeyForeignSandboxDestroyedAndUnknownAreRefusedAlike() throws Exception {
        // bob's own sandbox row, destroyed: a row with bob's key that must no longer open
        SandboxRecord alive = api.server.store().sandbox(id).orElseThrow();
        SandboxRecord destroyed = new SandboxRecord("sb_01M8SSHDESTROYED00000000000", api.bob.id(), "gone-box",
                SandboxStatus.DESTROYED, alive.shape(), alive.rootfs(), alive.vcpu(), alive.memMib(), alive.diskMib(),
                null, null, false, null, java.util.Map.of(), List.of(), List.of(OpenSsh.publicKey(bobKey)),
                alive.bandwidthQuotaBytes(), null, Instant.now(), null, Instant.now(), null, null);
        api.server.store().insertSandbox(destroyed);
        Path strangerKey = OpenSsh.keygen(keys, "stranger");

        List<OpenSsh.Result> refused = List.of(
                ssh.exec(strangerKey, id, "true"),              // a wrong key
                ssh.exec(bobKey, id, "true"),                   // another tenant's sandbox
                ssh.exec(bobKey, destroyed.id(), "true"),       // a destroyed sandbox
                ssh.exec(bobKey, "gone-box", "true"),           // ... by name
                ssh.exec(aliceKey, "sb_NOSUCHSANDBOX", "true")); // an unknown one
        for (OpenSsh.Result r : refused) {
            assertThat(r.exit()).as(r.toString()).isEqualTo(255);
            assertThat(r.stderr().replaceFirst("^\\S+@127\\.0\\.0\\.1: ", "").strip()).as(r.toString())
                    .isEqualTo("Permission denied (publickey).");
        }
    }

    @Test
    @Order(7)
    void aKeyAddedLaterWorksAtOnce() throws Exception {
        Path later = OpenSsh.keygen(keys, "later");
        assertThat(ssh.exec(later, id, "true").exit()).isEqualTo(255);
        Reply added = api.post("/v1/sandboxes/" + id + "/ssh-pubkeys", api.aliceKey,
                map("keys", List.of(OpenSsh.publicKey(later))));
        assertThat(added.status()).as(added.toString()).isEqualTo(200);
        exec("useradd", "-m", "-s", "/bin/bash", "dev");
        OpenSsh.Result ok = ssh.exec(later, "dev+ssh-box", "id -un; pwd");
        assertThat(ok.stdout()).as(ok.toString()).isEqualTo("dev\n/home/dev\n");
        OpenSsh.Result sftp = ssh.sftpBatch(later, "dev+ssh-box", "pwd\nmkdir made\n");
        assertThat(sftp.stdout()).as(sftp.toString()).contains("/home/dev");
        assertThat(exec("stat", "-c", "%U", "/home/dev/made").get("result").get("stdout").asText()).isEqualTo("dev\n");
    }

    @Test
    @Order(8)
    void pauseEndsTheSessionPausedIsRefusedUnlessAutoPauseResumes() throws Exception {
        List<String> argv = ssh.ssh(aliceKey, id);
        argv.add("echo started; sleep 120");
        Process session = new ProcessBuilder(argv).start();
        try {
            InputStream out = session.getInputStream();
            byte[] started = out.readNBytes("started\n".length());
            assertThat(new String(started, StandardCharsets.UTF_8)).isEqualTo("started\n");
            Reply paused = api.post("/v1/sandboxes/" + id + "/pause", api.aliceKey, map());
            assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
            assertThat(session.waitFor(30, TimeUnit.SECONDS)).as("the session ends with the pause").isTrue();
            assertThat(session.exitValue()).isNotZero();
        } finally {
            session.destroyForcibly();
        }
        OpenSsh.Result refused = ssh.exec(aliceKey, id, "true");
        assertThat(refused.exit()).isEqualTo(255);
        assertThat(refused.stderr()).contains("is paused and has no auto-pause").contains("/resume");

        assertThat(api.post("/v1/sandboxes/" + id + "/resume", api.aliceKey, map()).status()).isEqualTo(200);
        assertThat(api.patch("/v1/sandboxes/" + id, api.aliceKey, map("auto_pause_after_seconds", 3600)).status())
                .isEqualTo(200);
        assertThat(api.post("/v1/sandboxes/" + id + "/pause", api.aliceKey, map()).status()).isEqualTo(200);
        OpenSsh.Result resumed = ssh.exec(aliceKey, id, "echo awake");
        assertThat(resumed.stdout()).as(resumed.toString()).isEqualTo("awake\n");
        assertThat(api.get("/v1/sandboxes/" + id, api.aliceKey).data().get("status").asText()).isEqualTo("running");
    }

    /** Collects a process's output on a thread of its own, so a test can wait for a text with a deadline. */
    static final class Output {
        private final StringBuilder seen = new StringBuilder();

        Output(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[4096];
                try {
                    for (int n; (n = in.read(buffer)) >= 0; ) {
                        synchronized (seen) {
                            seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                            seen.notifyAll();
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
            });
        }

        void await(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            synchronized (seen) {
                while (seen.indexOf(text) < 0) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    assertThat(left).as("waiting for '%s' in '%s'", text, seen).isPositive();
                    seen.wait(left);
                }
            }
        }

        @Override
        public String toString() {
            synchronized (seen) {
                return seen.toString();
            }
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
