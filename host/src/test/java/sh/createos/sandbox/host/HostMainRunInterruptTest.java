package sh.createos.sandbox.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.kit.DataDir;

/**
 * Issue 18: {@code bin/createos-sandbox run} interrupted (Ctrl-C, SIGTERM, a timeout's kill) left the detached QEMU
 * running. SIGTERM while the VM boots and while the command runs both end with no VM and no directory left.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HostMainRunInterruptTest {
    private static final Pattern VM_ID = Pattern.compile("(run-[0-9a-f]{8})");

    @Test
    void sigtermWhileTheCommandRunsDestroysTheVm() throws Exception {
        Process run = start();
        String id = null;
        try (BufferedReader err = new BufferedReader(new InputStreamReader(run.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = err.readLine()) != null; ) {
                Matcher m = VM_ID.matcher(line);
                if (line.contains("booted") && m.find()) {
                    id = m.group(1);
                    break;
                }
            }
            assertThat(id).as("the VM booted").isNotNull();
            run.destroy(); // SIGTERM
            assertThat(run.waitFor(120, TimeUnit.SECONDS)).isTrue();
        }
        assertGone(id);
    }

    @Test
    void sigtermWhileTheVmBootsLeavesNothingEither() throws Exception {
        Path vms = DataDir.fromEnvironment().resolve("vms");
        List<Path> before = list(vms);
        Process run = start();
        Path booting = null;
        for (int i = 0; i < 600 && booting == null; i++) { // the VM's directory appears early in the boot
            booting = list(vms).stream().filter(p -> !before.contains(p))
                    .filter(p -> p.getFileName().toString().startsWith("run-"))
                    .filter(p -> Files.exists(p.resolve("qemu.pid"))).findFirst().orElse(null);
            Thread.sleep(50);
        }
        assertThat(booting).as("a booting VM's directory").isNotNull();
        run.destroy();
        assertThat(run.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertGone(booting.getFileName().toString());
    }

    private static Process start() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HostMain.class.getName(), "run",
                "--", "sleep", "600").redirectErrorStream(true).start();
    }

    private static void assertGone(String id) throws Exception {
        Path dir = DataDir.fromEnvironment().resolve("vms").resolve(id);
        assertThat(dir).as("the VM's directory").doesNotExist();
        boolean qemuLeft = ProcessHandle.allProcesses()
                .anyMatch(p -> p.info().commandLine().orElse("").contains(id) && p.isAlive());
        assertThat(qemuLeft).as("a QEMU of " + id + " still runs").isFalse();
    }

    private static List<Path> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var entries = Files.list(dir)) {
            return entries.toList();
        }
    }
}
