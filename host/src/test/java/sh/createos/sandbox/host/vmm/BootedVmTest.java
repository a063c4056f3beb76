package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExecStartException;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.host.agent.FileDownload;
import sh.createos.sandbox.host.agent.PtySize;
import sh.createos.sandbox.host.proc.Command;

/** Everything that one booted devbox:1 VM can show; the VM is shared because every TCG boot costs seconds. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BootedVmTest {
    private static final PtySize PTY = new PtySize(24, 80);
    private static Vm vm;
    private static AgentClient agent;

    @BeforeAll
    static void boot() throws IOException {
        vm = TestVms.vmm().boot(TestVms.spec("shared", 1, 256));
        agent = vm.agent();
    }

    @AfterAll
    static void destroy() throws IOException {
        try {
            if (vm != null) {
                long pid = vm.pid();
                vm.destroy();
                TestVms.assertNothingLeft(vm.id(), pid);
            }
        } finally {
            TestVms.destroyLeftovers();
        }
    }

    @Test
    void guestRunsTheKitsKernelNotTheHosts() throws Exception {
        ExecResult uname = agent.run(ExecRequest.of("uname", "-r"));
        String hostKernel = Command.of("uname", "-r").run().stdout().strip();

        assertThat(uname.exitCode()).isZero();
        assertThat(uname.stdout().strip()).isEqualTo(TestVms.kit().kernelVersion()).isNotEqualTo(hostKernel);
        assertThat(agent.hello().kernel()).isEqualTo(TestVms.kit().kernelVersion());
        assertThat(agent.hello().hostname()).isEqualTo(vm.spec().hostname());
        assertThat(agent.run(ExecRequest.of("cat", "/etc/hostname")).stdout()).isEqualTo(vm.spec().hostname() + "\n");
    }

    @Test
    void vmDirectoryHoldsItsFilesAndSpec() throws Exception {
        assertThat(vm.dir()).isEqualTo(TestVms.dataDir().resolve("vms").resolve(vm.id()));
        for (String file : new String[] {"vm.json", "qmp.sock", "agent.sock", "overlay.qcow2", "console.log", "qemu.pid"}) {
            assertThat(vm.dir().resolve(file)).exists();
        }
        assertThat(new ObjectMapper().readValue(vm.dir().resolve("vm.json").toFile(), VmSpec.class).id())
                .isEqualTo(vm.id());
        assertThat(Files.readString(vm.dir().resolve("qemu.pid")).strip()).isEqualTo(Long.toString(vm.pid()));
        // The overlay rests on the image, directly (cold boot) or through the image's template disk.
        String info = Command.of("qemu-img", "info", "-U", "--backing-chain", vm.dir().resolve("overlay.qcow2").toString())
                .run().stdout();
        assertThat(info).contains("backing file: " + TestVms.kit().image(TestVms.IMAGE));
    }

    @Test
    void qemuIsDetachedFromTheJvm() throws Exception {
        String[] qemu = stat(vm.pid());
        String[] self = stat(ProcessHandle.current().pid());
        // fields after "(comm) state": ppid, pgrp, session
        assertThat(qemu[1]).as("parent").isNotEqualTo(Long.toString(ProcessHandle.current().pid()));
        assertThat(qemu[3]).as("session").isNotEqualTo(self[3]);
        assertThat(vm.isAlive()).isTrue();
    }

    @Test
    void hundredThousandLinesPerStreamArriveCompleteAndInOrder() throws Exception {
        int lines = 100_000;
        ExecRequest awk = ExecRequest.of("awk", "BEGIN { for (i = 1; i <= " + lines
                + "; i++) { print \"out \" i; print \"err \" i > \"/dev/stderr\" }; exit 7 }");
        try (ExecSession session = agent.exec(awk)) {
            CompletableFuture<Integer> out = countNumberedLines(session.stdout(), "out ");
            CompletableFuture<Integer> err = countNumberedLines(session.stderr(), "err ");

            ExitStatus status = session.waitFor();

            assertThat(out.get(60, TimeUnit.SECONDS)).isEqualTo(lines);
            assertThat(err.get(60, TimeUnit.SECONDS)).isEqualTo(lines);
            assertThat(status.code()).isEqualTo(7);
        }
    }

    @Test
    void exitCodeIsReported() throws Exception {
        assertThat(agent.run(ExecRequest.of("sh", "-c", "echo bye; exit 42")))
                .isEqualTo(new ExecResult("bye\n", "", 42));
    }

    @Test
    void missingBinaryIsAStartError() {
        assertThatThrownBy(() -> agent.run(ExecRequest.of("/usr/bin/no-such-binary", "x")))
                .isInstanceOfSatisfying(ExecStartException.class, e -> assertThat(e.code()).isEqualTo("start_failed"))
                .hasMessageContaining("/usr/bin/no-such-binary");
    }

    @Test
    void fiftyMibFileRoundTripKeepsItsSha256() throws Exception {
        byte[] content = new byte[50 * 1024 * 1024];
        new Random(42).nextBytes(content);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));

        long written = agent.writeFile("/root/blob.bin", new ByteArrayInputStream(content), 0644);
        String guestSha256 = agent.run(ExecRequest.of("sha256sum", "/root/blob.bin")).stdout().split(" ")[0];
        MessageDigest readBack = MessageDigest.getInstance("SHA-256");
        long read = 0;
        try (FileDownload download = agent.readFile("/root/blob.bin"); InputStream in = download.content()) {
            assertThat(download.size()).isEqualTo(content.length);
            assertThat(download.mode() & 0777).isEqualTo(0644);
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0; read += n) {
                readBack.update(buf, 0, n);
            }
        } finally {
            agent.remove("/root/blob.bin", false);
        }
        assertThat(written).isEqualTo(content.length);
        assertThat(guestSha256).as("sha256 in the guest").isEqualTo(sha256);
        assertThat(read).isEqualTo(content.length);
        assertThat(HexFormat.of().formatHex(readBack.digest())).as("sha256 read back").isEqualTo(sha256);
    }

    @Test
    void ptyGivesTheProcessATerminal() throws Exception {
        try (ExecSession session = agent.exec(ExecRequest.of("tty").withPty(PTY))) {
            String out = new String(session.stdout().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(session.waitFor().code()).isZero();
            assertThat(out.strip()).matches("/dev/pts/\\d+");
        }
    }

    @Test
    void ptyResizeChangesTheTerminalSize() throws Exception {
        ExecRequest request = ExecRequest.of("sh", "-c", "stty size; read line; stty size").withPty(PTY).withStdin(true);
        try (ExecSession session = agent.exec(request)) {
            Output out = Output.of(session.stdout());
            out.await("24 80");

            session.resize(40, 120);
            session.stdin().write('\n');
            session.stdin().flush();

            out.await("40 120");
            assertThat(session.waitFor().code()).isZero();
        }
    }

    @Test
    void ctrlCReachesTheForegroundProcess() throws Exception {
        ExecRequest request = ExecRequest.of("sh", "-c",
                "trap 'echo got-INT; exit 3' INT; echo ready; while :; do sleep 0.1; done").withPty(PTY).withStdin(true);
        try (ExecSession session = agent.exec(request)) {
            Output out = Output.of(session.stdout());
            out.await("ready");

            session.stdin().write(3); // what a terminal sends for Ctrl-C
            session.stdin().flush();

            out.await("got-INT");
            assertThat(session.waitFor().code()).isEqualTo(3);
        }
    }

    @Test
    void killingTheSessionKillsItsWholeProcessTree() throws Exception {
        ExecRequest request = ExecRequest.of("sh", "-c",
                "sleep 1001 & setsid sleep 1002 & (sleep 1003 &); echo started; wait").withPty(PTY);
        try (ExecSession session = agent.exec(request)) {
            Output.of(session.stdout()).await("started");
            assertThat(sleepersRunning()).isEqualTo(3);

            session.kill();

            assertThat(session.waitFor().signal()).isEqualTo("KILL");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (sleepersRunning() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(sleepersRunning()).as("sleep 1001..1003 left running").isZero();
    }

    @Test
    void resizeDiskGrowsTheGuestFilesystem() throws Exception {
        long before = rootFsKib();
        int grown = vm.spec().diskMib() + 256;

        vm.resizeDisk(grown);

        assertThat(rootFsKib() - before).as("KiB added to /").isGreaterThan(200 * 1024);
        assertThat(vm.spec().diskMib()).isEqualTo(grown);
        assertThat(new ObjectMapper().readValue(vm.dir().resolve("vm.json").toFile(), VmSpec.class).diskMib())
                .isEqualTo(grown);
        assertThatThrownBy(() -> vm.resizeDisk(grown - 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shrink");
    }

    private static long rootFsKib() throws IOException {
        ExecResult df = agent.run(ExecRequest.of("df", "-k", "--output=size", "/"));
        assertThat(df.exitCode()).as("df: %s", df.stderr()).isZero();
        return Long.parseLong(df.stdout().lines().skip(1).findFirst().orElseThrow().strip());
    }

    private static int sleepersRunning() throws IOException {
        return Integer.parseInt(agent.run(ExecRequest.of("pgrep", "-cf", "^sleep 100[123]")).stdout().strip());
    }

    /** Reads numbered lines on a virtual thread; fails at the first line that is not the next number. */
    private static CompletableFuture<Integer> countNumberedLines(InputStream in, String prefix) {
        CompletableFuture<Integer> count = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                int n = 0;
                for (String line; (line = reader.readLine()) != null; ) {
                    n++;
                    if (!line.equals(prefix + n)) {
                        throw new AssertionError("line " + n + " is '" + line + "', expected '" + prefix + n + "'");
                    }
                }
                count.complete(n);
            } catch (Throwable e) {
                count.completeExceptionally(e);
            }
        });
        return count;
    }

    private static String[] stat(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** Collects a terminal's output on a virtual thread so a test can wait for text to appear. */
    private static final class Output {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        static Output of(InputStream in) {
            Output output = new Output();
            Thread.ofVirtual().start(() -> output.drain(in));
            return output;
        }

        private void drain(InputStream in) {
            byte[] buf = new byte[4096];
            try (in) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (bytes) {
                        bytes.write(buf, 0, n);
                        bytes.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the session ended
            }
        }

        void await(String text) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 30_000;
            synchronized (bytes) {
                while (!bytes.toString(StandardCharsets.UTF_8).contains(text)) {
                    long left = deadline - System.currentTimeMillis();
                    assertThat(left).as("'%s' in terminal output: %s", text, bytes.toString(StandardCharsets.UTF_8))
                            .isPositive();
                    bytes.wait(left);
                }
            }
        }
    }
}
