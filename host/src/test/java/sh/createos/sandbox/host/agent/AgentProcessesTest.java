package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AgentProcesses} against the real Go agent on this host ({@code serve}, no VM): managed processes outlive
 * the connection that started them, replay is exact across reconnects, expiry, wait, kill and the error codes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentProcessesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path agentDir;

    private static AgentProcess agent;

    @BeforeAll
    static void startAgent() throws IOException {
        agent = AgentProcess.listen(agentDir);
    }

    @AfterAll
    static void stopAgent() throws InterruptedException {
        agent.close();
    }

    private static ProcessStart pipe(String script) {
        return new ProcessStart(List.of("sh", "-c", script), Map.of(), null, null, null, false);
    }

    /** Reads chunks until {@code stopAt} (0: until the exit), checking that sequence numbers grow by one. */
    private static long follow(ProcessOutput out, long after, long stopAt, ByteArrayOutputStream into,
            ProcessOutputFrame[] last) throws IOException {
        long expected = after + 1;
        for (ProcessOutputFrame f; (f = out.next()) != null; ) {
            last[0] = f;
            if (f instanceof ProcessOutputFrame.Chunk c) {
                assertThat(c.seq()).isEqualTo(expected++);
                into.write(c.data());
                if (c.seq() == stopAt) {
                    out.close();
                    return c.seq();
                }
            }
        }
        return expected - 1;
    }

    @Test
    void aProcessOutlivesItsConnectionAndReplaysEveryByteOnce() throws Exception {
        String id;
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ProcessOutputFrame[] last = new ProcessOutputFrame[1];
        long seq;
        try (AgentClient first = agent.connect()) {
            ManagedProcessInfo p = first.processes().start(
                    pipe("i=1; while [ $i -le 150 ]; do echo line$i; i=$((i+1)); sleep 0.005; done; exit 4"));
            id = p.processId();
            assertThat(p.kind()).isEqualTo("process");
            assertThat(p.state()).isEqualTo("running");
            seq = follow(first.processes().connect(id, 0), 0, 3, got, last);
        } // the connection ends: the agent keeps the process
        try (AgentClient second = agent.connect()) {
            AgentProcesses procs = second.processes();
            seq = follow(procs.connect(id, seq), seq, seq + 10, got, last);
            seq = follow(procs.connect(id, seq), seq, 0, got, last);
            assertThat(last[0]).isEqualTo(new ProcessOutputFrame.Exit(4, null));
            StringBuilder want = new StringBuilder();
            for (int i = 1; i <= 150; i++) {
                want.append("line").append(i).append('\n');
            }
            assertThat(got.toString(StandardCharsets.UTF_8)).isEqualTo(want.toString());
            AgentProcesses.WaitResult done = procs.await(id, true, WAIT);
            assertThat(done.done()).isTrue();
            assertThat(done.process().exitCode()).isEqualTo(4);
            assertThat(done.process().treeExited()).isTrue();
            assertThat(done.process().output().newestSeq()).isEqualTo(seq);
            assertThat(procs.list()).extracting(ManagedProcessInfo::processId).contains(id);
        }
    }

    @Test
    void inputStdinCloseWaitAndErrors() throws Exception {
        try (AgentClient client = agent.connect()) {
            AgentProcesses procs = client.processes();
            ManagedProcessInfo cat = procs.start(pipe("cat; echo end"));
            assertThat(procs.input(cat.processId(), "one\n".getBytes())).isEqualTo(1);
            assertThat(procs.input(cat.processId(), "two\n".getBytes())).isEqualTo(2);
            assertThat(procs.await(cat.processId(), false, Duration.ofMillis(50)).done()).isFalse();
            procs.closeStdin(cat.processId());
            assertThat(procs.await(cat.processId(), false, WAIT).process().exitCode()).isZero();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            follow(procs.connect(cat.processId(), 0), 0, 0, out, new ProcessOutputFrame[1]);
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("one\ntwo\nend\n");

            assertThatThrownBy(() -> procs.get("proc_nope")).isInstanceOf(AgentException.class)
                    .extracting(e -> ((AgentException) e).code()).isEqualTo("ENOENT");
            assertThatThrownBy(() -> procs.start(new ProcessStart(List.of("no-such-cmd-q"), null, null, null, null,
                    false))).isInstanceOf(ExecStartException.class).hasMessageContaining("no-such-cmd-q");
            assertThatThrownBy(() -> procs.resize(cat.processId(), 10, 10))
                    .extracting(e -> ((AgentException) e).code()).isEqualTo("not_a_pty");
            assertThatThrownBy(() -> procs.signal(cat.processId(), "TERM"))
                    .extracting(e -> ((AgentException) e).code()).isEqualTo("exited");
        }
    }

    @Test
    void anExpiredOffsetIsTheOnlyFrame() throws Exception {
        try (AgentClient client = agent.connect()) {
            AgentProcesses procs = client.processes();
            ManagedProcessInfo p = procs.start(pipe("head -c 5000000 /dev/zero"));
            procs.await(p.processId(), true, WAIT);
            ManagedProcessInfo done = procs.get(p.processId());
            assertThat(done.output().bytes()).isLessThanOrEqualTo(4L << 20);
            try (ProcessOutput out = procs.connect(p.processId(), 1)) {
                assertThat(out.next()).isEqualTo(new ProcessOutputFrame.Expired(done.output().oldestSeq()));
                assertThat(out.next()).isNull();
            }
        }
    }

    @Test
    void killEndsTheTreeAndAPtyTakesResizeAndSignals() throws Exception {
        try (AgentClient client = agent.connect()) {
            AgentProcesses procs = client.processes();
            ManagedProcessInfo sh = procs.start(new ProcessStart(List.of("sh"), null, null, null, new PtySize(24, 80),
                    true));
            assertThat(sh.isPty()).isTrue();
            assertThat(sh.shell()).isTrue();
            procs.resize(sh.processId(), 50, 132);
            procs.input(sh.processId(), "stty size; sleep 100 & sleep 100\r".getBytes());
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            try (ProcessOutput out = procs.connect(sh.processId(), 0)) {
                while (!seen.toString(StandardCharsets.UTF_8).contains("50 132")) {
                    if (out.next() instanceof ProcessOutputFrame.Chunk c) {
                        seen.write(c.data());
                    }
                }
            }
            ManagedProcessInfo killed = procs.kill(sh.processId(), Duration.ofMillis(200));
            assertThat(killed.treeExited()).isTrue();
            assertThat(killed.state()).isEqualTo("exited");
            assertThat(procs.kill(sh.processId(), Duration.ZERO).state()).isEqualTo("exited");
        }
    }

    @Test
    void statsDescribeTheMachine() throws Exception {
        try (AgentClient client = agent.connect()) {
            GuestStats s = client.stats();
            assertThat(s.cpuCount()).isPositive();
            assertThat(s.memoryUsedBytes()).isPositive().isLessThan(s.memoryTotalBytes());
            assertThat(s.diskTotalBytes()).isPositive();
            assertThat(s.cpuWindowMs()).isGreaterThanOrEqualTo(250);
        }
    }
}
