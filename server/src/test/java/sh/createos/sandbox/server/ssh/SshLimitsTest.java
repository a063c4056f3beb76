package sh.createos.sandbox.server.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * The gateway's connection limits with Debian's OpenSSH client: authentication requests per connection, the idle
 * timeout (and that client keep-alives hold it off), and connections per sandbox. All of them act before any
 * channel reaches a guest, so the sandbox here is a paused row in the store and no VM boots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SshLimitsTest {
    private static final int AUTH_REQUESTS = 4;
    private static final Duration IDLE = Duration.ofSeconds(3);
    private static final int PER_SANDBOX = 2;
    @TempDir
    static Path dir;
    @TempDir
    static Path keys;
    private TestApi api;
    private Path key;
    private final List<Path> wrong = new ArrayList<>();
    /** One row per test, so that connections one test leaves closing do not count against another's cap. */
    private final String capped = "sb_01M8SSHLIMITS000000000000";
    private final String other = "sb_01M8SSHLIMITS000000000001";
    private final String third = "sb_01M8SSHLIMITS000000000002";

    @BeforeAll
    void start() throws Exception {
        api = TestApi.start(dir, false, c -> c.withSsh(SshConfig.of("127.0.0.1:0")
                .withLimits(AUTH_REQUESTS, IDLE, PER_SANDBOX)));
        key = OpenSsh.keygen(keys, "right");
        for (int i = 0; i < 4; i++) {
            wrong.add(OpenSsh.keygen(keys, "wrong" + i));
        }
        // paused without auto-pause: logins authenticate, channels are refused without touching a VM
        for (String id : List.of(capped, other, third)) {
            String name = "limits-" + id.substring(id.length() - 1);
            api.server.store().insertSandbox(new SandboxRecord(id, api.alice.id(), name, SandboxStatus.PAUSED,
                    "s-1vcpu-512mb", "devbox:1", 1, 512, 4096, null, null, false, null, Map.of(), List.of(),
                    List.of(OpenSsh.publicKey(key)), 0L, null, Instant.now(), null, null, null, null));
        }
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
    }

    /** ssh -N with the given keys offered in order, VERBOSE so that "Authenticated to" shows a login. */
    private Process connect(String id, List<Path> offered, String... options) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ssh", "-p", String.valueOf(api.server.sshPort()), "-F",
                "/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o",
                "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=VERBOSE", "-N"));
        for (Path k : offered) {
            argv.addAll(List.of("-i", k.toString()));
        }
        argv.addAll(List.of(options));
        argv.add(id + "@127.0.0.1");
        return new ProcessBuilder(argv).redirectErrorStream(true).start();
    }

    /** Waits until the connection is logged in (true) or ssh has exited (false). */
    private static boolean loggedIn(Process ssh, SshGatewayTest.Output out) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (out.toString().contains("Authenticated to")) {
                return true;
            }
            if (!ssh.isAlive()) {
                ssh.waitFor();
                Thread.sleep(200); // the reader thread takes the last bytes
                return out.toString().contains("Authenticated to");
            }
            Thread.sleep(50);
        }
        throw new AssertionError("ssh neither logged in nor exited: " + out);
    }

    @Test
    void authRequestsPerConnectionAreCapped() throws Exception {
        // OpenSSH starts with a "none" request: with a cap of N it may offer N-2 wrong keys before the right one.
        assertThat(login(wrong.subList(0, AUTH_REQUESTS - 2))).as("N-2 wrong keys first").isEqualTo("logged in");
        assertThat(login(wrong.subList(0, AUTH_REQUESTS - 1))).as("N-1 wrong keys first")
                .contains("Too many authentication failures");
    }

    private String login(List<Path> wrongFirst) throws Exception {
        List<Path> offered = new ArrayList<>(wrongFirst);
        offered.add(key);
        Process ssh = connect(third, offered);
        SshGatewayTest.Output out = new SshGatewayTest.Output(ssh.getInputStream());
        try {
            return loggedIn(ssh, out) ? "logged in" : out.toString();
        } finally {
            ssh.destroy();
            ssh.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeoutButKeepAlivesHoldItOpen() throws Exception {
        Process silent = connect(other, List.of(key));
        Process chatty = connect(other, List.of(key), "-o", "ServerAliveInterval=1");
        SshGatewayTest.Output silentOut = new SshGatewayTest.Output(silent.getInputStream());
        SshGatewayTest.Output chattyOut = new SshGatewayTest.Output(chatty.getInputStream());
        try {
            assertThat(loggedIn(silent, silentOut)).as(silentOut.toString()).isTrue();
            assertThat(loggedIn(chatty, chattyOut)).as(chattyOut.toString()).isTrue();
            assertThat(silent.waitFor(60, TimeUnit.SECONDS)).as("closed for idling").isTrue();
            // MINA closes it as SSH2_DISCONNECT_PROTOCOL_ERROR, which OpenSSH prints as below
            silentOut.await("Received disconnect");
            // the silent one idled out after IDLE; the one sending keep-alives is still up twice that later
            Thread.sleep(2 * IDLE.toMillis());
            assertThat(chatty.isAlive()).as(chattyOut.toString()).isTrue();
        } finally {
            silent.destroy();
            chatty.destroy();
            silent.waitFor(10, TimeUnit.SECONDS);
            chatty.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSandboxTakesAtMostItsConnectionsAndFreesOnesThatClose() throws Exception {
        OpenSsh ssh = new OpenSsh(api.server.sshPort());
        List<Process> held = new ArrayList<>();
        try {
            for (int i = 0; i < PER_SANDBOX; i++) {
                Process p = connect(capped, List.of(key), "-o", "ServerAliveInterval=1");
                held.add(p);
                SshGatewayTest.Output out = new SshGatewayTest.Output(p.getInputStream());
                assertThat(loggedIn(p, out)).as(out.toString()).isTrue();
            }
            // One more logs in, but its channels are refused while the sandbox has no place for it.
            OpenSsh.Result over = ssh.exec(key, capped, "true");
            assertThat(over.exit()).as(over.toString()).isEqualTo(255);
            assertThat(over.stderr()).contains("already has " + PER_SANDBOX + " SSH connections");

            Process first = held.removeFirst();
            first.destroy();
            first.waitFor(10, TimeUnit.SECONDS);
            // Once the server has seen that close, the next connection gets the place: its exec now reaches the
            // sandbox, which is paused without auto-pause and says so.
            OpenSsh.Result admitted = over;
            for (int i = 0; i < 50 && admitted.stderr().contains("SSH connections"); i++) {
                Thread.sleep(200);
                admitted = ssh.exec(key, capped, "true");
            }
            assertThat(admitted.stderr()).as(admitted.toString()).contains("is paused and has no auto-pause");
        } finally {
            for (Process p : held) {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
