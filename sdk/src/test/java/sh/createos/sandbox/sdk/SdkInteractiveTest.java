package sh.createos.sandbox.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;

/**
 * The interactive endpoints through the SDK against a real server and VM: managed processes (start, list, attach
 * with replay from a sequence number, input, close stdin, wait, resize, signal, kill) and the keyless PTY shell.
 */
class SdkInteractiveTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static TestApi api;
    static SandboxClient client;
    static Sandbox sandbox;

    @BeforeAll
    static void start() throws Exception {
        api = TestApi.start(dir, true);
        client = SandboxClient.builder(Map.of()).baseUrl("http://127.0.0.1:" + api.server.port())
                .apiKey(api.aliceKey).timeout(Duration.ofMinutes(3)).build();
        sandbox = client.createSandbox(CreateSandboxRequest.builder().shape("s-1vcpu-256mb").build());
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (api != null) {
            api.close();
        }
    }

    @Test
    void aPipeProcessTakesInputAndReplaysItsOutput() {
        Processes processes = sandbox.processes();
        ManagedProcess p = processes.start(ProcessRequest.command("sh")
                .args("-c", "echo ready; read -r line; echo got:$line; echo done >&2; cat >/dev/null").build());
        assertThat(p.processId()).startsWith("proc_");
        assertThat(p.kind()).isEqualTo("process");
        assertThat(processes.list()).extracting(ManagedProcess::processId).contains(p.processId());

        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        long lastSeq = 0;
        Integer exit = null;
        boolean sent = false;
        List<String> frames = new ArrayList<>();
        try (ProcessStream stream = processes.attach(p.processId(), 0)) {
            for (ProcessEvent e : stream) {
                if (e instanceof ProcessEvent.Data d) {
                    assertThat(d.seq()).isGreaterThan(lastSeq);
                    lastSeq = d.seq();
                    String text = new String(d.data(), StandardCharsets.UTF_8);
                    frames.add(d.seq() + " " + d.stream() + " " + text);
                    (d.stream().equals("stderr") ? stderr : stdout).append(text);
                    if (!sent && stdout.toString().equals("ready\n")) {
                        sent = true;
                        assertThat(processes.input(p.processId(), "hello\n".getBytes(StandardCharsets.UTF_8)))
                                .as("input_seq of the first write; frames so far %s", frames).isEqualTo(1);
                    }
                    if (stderr.toString().equals("done\n")) {
                        processes.closeStdin(p.processId());
                    }
                } else if (e instanceof ProcessEvent.Exit x) {
                    exit = x.exitCode();
                }
            }
        }
        assertThat(stdout.toString()).isEqualTo("ready\ngot:hello\n");
        assertThat(stderr.toString()).isEqualTo("done\n");
        assertThat(exit).isZero();
        ManagedProcess done = processes.waitFor(p.processId(), true, WAIT);
        assertThat(done.treeExited()).isTrue();
        assertThat(done.exitCode()).isZero();

        // replay: everything after the first frame, then the exit at once
        List<ProcessEvent> replay = new ArrayList<>();
        try (ProcessStream again = processes.attach(p.processId(), 1)) {
            again.forEach(replay::add);
        }
        assertThat(replay.get(0)).isInstanceOfSatisfying(ProcessEvent.Data.class, d -> assertThat(d.seq()).isEqualTo(2));
        assertThat(replay.get(replay.size() - 1)).isEqualTo(new ProcessEvent.Exit(0, null));
    }

    @Test
    void killAndSignalEndATree() {
        Processes processes = sandbox.processes();
        ManagedProcess sleeper = processes.start(ProcessRequest.command("sh").args("-c", "sleep 300 & sleep 300")
                .build());
        ManagedProcess killed = processes.kill(sleeper.processId(), Duration.ofMillis(500));
        assertThat(killed.treeExited()).isTrue();
        assertThat(killed.state()).isEqualTo("exited");

        ManagedProcess trapped = processes.start(ProcessRequest.command("sh")
                .args("-c", "trap 'echo usr1; exit 9' USR1; echo armed; while true; do sleep 0.2; done").build());
        StringBuilder out = new StringBuilder();
        ProcessEvent last = null;
        try (ProcessStream stream = processes.attach(trapped.processId(), 0)) {
            for (ProcessEvent e : stream) {
                last = e;
                if (e instanceof ProcessEvent.Data d && d.stream().equals("stdout")) {
                    out.append(new String(d.data(), StandardCharsets.UTF_8));
                    if (out.toString().equals("armed\n")) { // the trap is set: only now is USR1 caught
                        processes.signal(trapped.processId(), "SIGUSR1");
                    }
                }
            }
        }
        // the group's sleep dies of USR1 too (sh reports that on stderr); the leader's trap decides the exit
        assertThat(out.toString()).isEqualTo("armed\nusr1\n");
        assertThat(last).isEqualTo(new ProcessEvent.Exit(9, null));
        assertThat(processes.waitFor(trapped.processId(), false, WAIT).exitCode()).isEqualTo(9);
        assertThatThrownBy(() -> processes.get("proc_01J0000000000000000000000")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void aPtyProcessResizes() {
        Processes processes = sandbox.processes();
        ManagedProcess pty = processes.start(ProcessRequest.pty(24, 80).cmd("sh")
                .args("-c", "read -r go; stty size").build());
        assertThat(pty.kind()).isEqualTo("pty");
        processes.resize(pty.processId(), 33, 111);
        processes.input(pty.processId(), "go\r".getBytes(StandardCharsets.UTF_8));
        processes.waitFor(pty.processId(), false, WAIT);
        StringBuilder out = new StringBuilder();
        try (ProcessStream s = processes.attach(pty.processId(), 0)) {
            for (ProcessEvent e : s) {
                if (e instanceof ProcessEvent.Data d) {
                    out.append(new String(d.data(), StandardCharsets.UTF_8));
                }
            }
        }
        assertThat(out.toString()).contains("33 111");
    }

    @Test
    void aShellSessionRunsCommandsAndEndsWithTheShell() throws Exception {
        try (ShellSession shell = sandbox.openShell(30, 100)) {
            shell.input().write("stty size; echo answer=$((6*7))\r".getBytes(StandardCharsets.UTF_8));
            shell.input().write("exit\r".getBytes(StandardCharsets.UTF_8));
            shell.input().flush();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            InputStream out = shell.output();
            byte[] buffer = new byte[4096];
            int n;
            while ((n = out.read(buffer)) >= 0) { // EOF: the shell exited and the server closed
                seen.write(buffer, 0, n);
            }
            String text = seen.toString(StandardCharsets.UTF_8);
            assertThat(text).contains("answer=42").contains("30 100");
        }
    }
}
