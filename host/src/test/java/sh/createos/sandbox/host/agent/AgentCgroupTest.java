package sh.createos.sandbox.host.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with {@code --cgroup-root}, as in the guest: each exec gets its own cgroup v2 directory, so a kill
 * reaches every descendant through cgroup.kill. Needs root and a cgroup v2 mount on this host.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AgentCgroupTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Path cgroupRoot;
    private AgentProcess agent;
    private AgentClient client;

    @BeforeEach
    void startAgentUnderATemporaryCgroup() throws IOException {
        Optional<Path> mount = cgroup2Mount();
        assumeTrue(mount.isPresent(), "this host has no cgroup v2 mount");
        assumeTrue(Files.isWritable(mount.get()), "cgroup v2 at " + mount.get() + " is not writable (not root?)");
        cgroupRoot = mount.get().resolve("createos-agent-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        agent = AgentProcess.listen(dir, "--cgroup-root", cgroupRoot.toString());
        client = agent.connect();
    }

    @AfterEach
    void stopAgentAndRemoveCgroups() throws Exception {
        if (client != null) {
            client.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (cgroupRoot != null && Files.isDirectory(cgroupRoot)) {
            try (Stream<Path> tree = Files.walk(cgroupRoot)) { // cgroup directories are removed with rmdir, leaves first
                for (Path cgroup : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(cgroup);
                }
            }
        }
    }

    @Test
    void execRunsInItsOwnCgroupAndKillReachesASetsidGrandchild() throws Exception {
        try (ExecSession session = client.exec(ExecRequest.of("sh", "-c",
                "setsid sh -c 'echo $$; exec sleep 1000' & wait"))) {
            Transcript out = new Transcript(session.stdout());
            int end = out.await("\n", 0, WAIT);
            long grandchild = Long.parseLong(out.text().substring(0, end).strip());
            try {
                Path cgroup = cgroupOf(session.pid());
                assertThat(cgroup.getParent()).isEqualTo(cgroupRoot);
                assertThat(cgroup.getFileName().toString()).matches("exec-\\d+");
                assertThat(cgroupOf(grandchild)).isEqualTo(cgroup);

                session.kill();
                assertThat(session.waitFor()).isEqualTo(new ExitStatus(128 + 9, "KILL"));
                assertThat(awaitGone(grandchild)).as("setsid grandchild %d is gone", grandchild).isTrue();
                assertThat(awaitGone(cgroup)).as("cgroup %s removed after the exec", cgroup).isTrue();
            } finally {
                ProcessHandle.of(grandchild).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private Path cgroupOf(long pid) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"));
        String v2 = lines.stream().filter(l -> l.startsWith("0::")).findFirst()
                .orElseThrow(() -> new AssertionError("no cgroup v2 line for " + pid + ": " + lines));
        Path mount = cgroupRoot.getParent();
        return mount.resolve(v2.substring(3).replaceFirst("^/", ""));
    }

    private static Optional<Path> cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] halves = line.split(" - ", 2);
            if (halves.length == 2 && halves[1].startsWith("cgroup2 ")) {
                return Optional.of(Path.of(halves[0].split(" ")[4]));
            }
        }
        return Optional.empty();
    }

    private static boolean awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private static boolean awaitGone(Path path) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!Files.exists(path)) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }
}
