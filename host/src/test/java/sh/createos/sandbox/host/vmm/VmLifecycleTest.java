package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.CommandFailedException;

/** Boot failures, re-attaching from another JVM, and cleanup of dead VMs. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class VmLifecycleTest {
    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void aDiskSmallerThanTheImageIsRejectedBeforeAnythingIsCreated() {
        VmSpec spec = TestVms.spec("small-disk", 1, 128);
        VmSpec tooSmall = new VmSpec(spec.id(), spec.image(), 1, 128, TestVms.imageMib() - 1, spec.hostname());

        assertThatThrownBy(() -> TestVms.vmm().boot(tooSmall))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("smaller than image devbox:1");
        assertThat(TestVms.dataDir().resolve("vms").resolve(spec.id())).doesNotExist();
    }

    @Test
    void anUnknownImageIsRejected() {
        VmSpec spec = TestVms.spec("no-image", 1, 128);
        VmSpec unknown = new VmSpec(spec.id(), "nosuch:9", 1, 128, 1024, spec.hostname());

        assertThatThrownBy(() -> TestVms.vmm().boot(unknown))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nosuch:9");
    }

    @Test
    void qemuStartFailureReportsQemusErrorAndLeavesNothing() throws Exception {
        GuestKit kit = TestVms.kit();
        // An initrd in place of the kernel: qemu refuses it before the VM starts.
        GuestKit broken = new GuestKit(kit.initrd(), kit.initrd(), kit.kernelVersion(), kit.images());
        QemuVmm vmm = new QemuVmm(TestVms.dataDir(), broken, Accelerator.TCG, TestVms.BOOT_TIMEOUT);
        VmSpec spec = TestVms.spec("bad-kernel", 1, 128);

        assertThatThrownBy(() -> vmm.boot(spec))
                .isInstanceOf(VmBootException.class)
                .hasMessageContaining("failed while starting qemu")
                .hasMessageContaining("console.log")
                .satisfies(e -> {
                    assertThat(e.getCause()).isInstanceOf(CommandFailedException.class);
                    String qemuStderr = ((CommandFailedException) e.getCause()).stderr().strip();
                    assertThat(qemuStderr).isNotBlank();
                    assertThat(e).hasMessageContaining(qemuStderr);
                });
        TestVms.assertNothingLeft(spec.id(), -1);
    }

    @Test
    void aGuestThatCannotMountItsRootFailsTheBootWithItsConsole() throws Exception {
        Path notExt4 = Files.createTempFile("not-ext4", ".img");
        try {
            Files.write(notExt4, new byte[4 * 1024 * 1024]);
            GuestKit kit = TestVms.kit();
            GuestKit broken = new GuestKit(kit.kernel(), kit.initrd(), kit.kernelVersion(), Map.of("zeros:1", notExt4));
            QemuVmm vmm = new QemuVmm(TestVms.dataDir(), broken, Accelerator.detect(), TestVms.BOOT_TIMEOUT);
            VmSpec spec = new VmSpec(TestVms.RUN_PREFIX + "no-root", "zeros:1", 1, 128, 64, "no-root");

            long started = System.nanoTime();
            assertThatThrownBy(() -> vmm.boot(spec))
                    .isInstanceOf(VmBootException.class)
                    .hasMessageContaining("waiting for the agent")
                    .hasMessageContaining("exited before the agent answered")
                    .hasMessageContaining("createos-init: FAILED")
                    // Once: the failed template boot ends the create; no cold boot waits out the same failure.
                    .hasMessageContaining("a cold boot would fail the same way")
                    .hasMessageContaining("accelerator: " + vmm.accelerator())
                    .hasMessageContaining("command: qemu-system-x86_64 ")
                    .satisfies(e -> assertThat(e.getMessage().split("--- console.log", -1)).hasSize(2));
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started))
                    .as("seconds to notice the dead VM").isLessThan(60);
            TestVms.assertNothingLeft(spec.id(), -1);
        } finally {
            Files.deleteIfExists(notExt4);
        }
    }

    @Test
    void aVmSurvivesItsJvmAndAnotherJvmAttachesToIt() throws Exception {
        Vm booted = TestVms.vmm().boot(TestVms.spec("restart", 2, 192));
        String id = booted.id();
        long pid = booted.pid();
        booted.close();

        Process other = TestVms.startJvm(AttachAndRun.class, id, "sh", "-c", "echo attached to $(hostname) with $(nproc) cpus");
        try (BufferedReader out = new BufferedReader(new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8))) {
            List<String> lines = new ArrayList<>();
            for (String line; (line = out.readLine()) != null && !line.startsWith("ATTACHED"); ) {
                lines.add(line);
            }
            assertThat(lines).containsExactly("attached to " + id + " with 2 cpus");
        } finally {
            other.destroyForcibly().waitFor(); // SIGKILL: the JVM dies without detaching
        }

        Optional<Vm> attached = TestVms.vmm().attach(id);
        assertThat(attached).as("VM %s attached after the other JVM was killed", id).isPresent();
        Vm vm = attached.get();
        assertThat(vm.pid()).isEqualTo(pid);
        assertThat(vm.spec()).isEqualTo(TestVms.spec("restart", 2, 192));
        assertThat(vm.agent().run(ExecRequest.of("echo", "still here")).stdout()).isEqualTo("still here\n");

        vm.destroy();

        TestVms.assertNothingLeft(id, pid);
        assertThat(TestVms.vmm().attach(id)).isEmpty();
    }

    @Test
    void attachRemovesTheLeftoversOfADeadVm() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        VmDirectory dead = new VmDirectory(TestVms.dataDir().resolve("vms").resolve(TestVms.RUN_PREFIX + "dead"));
        Files.createDirectories(dead.path());
        dead.writeSpec(TestVms.spec("dead", 1, 128));
        Files.writeString(dead.pidFile(), exited.pid() + "\n");
        Files.writeString(dead.consoleLog(), "booted once\n");

        assertThat(TestVms.vmm().attach(dead.id())).isEmpty();
        assertThat(dead.path()).doesNotExist();
    }
}
