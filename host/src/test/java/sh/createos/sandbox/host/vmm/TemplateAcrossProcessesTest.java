package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.ExecRequest;

/**
 * Processes that share a data directory (a second server, the test command's parallel lanes) and need the same
 * template at once: one builds it, the other cold boots meanwhile instead of building it into the same VM directory,
 * and neither takes the other's build VM for a crashed build's and removes it while listing its own VMs.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class TemplateAcrossProcessesTest {
    /** A memory size no other test uses, so that nobody has built this template yet. */
    private static final int MEM_MIB = 208;

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void twoProcessesNeedingTheSameTemplateAtOnceBothBootAndOneTemplateIsBuilt() throws Exception {
        QemuVmm vmm = TestVms.vmm();
        Process other = TestVms.startJvm(BootAndReport.class, TestVms.RUN_PREFIX + "other", String.valueOf(MEM_MIB));
        CompletableFuture<String> otherOutput = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // While the other JVM boots (and perhaps builds), this one looks at every template build VM and every paused
        // VM over and over, as a process recovering the data directory does: the other's build VM must survive it.
        // (Not attachAll: attaching the other's own VM would take its agent and QMP connections, which serve one
        // client each.)
        CompletableFuture<Vm> mine = CompletableFuture.supplyAsync(() -> {
            try {
                return vmm.boot(TestVms.spec("mine", 1, MEM_MIB));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        while (other.isAlive() || !mine.isDone()) {
            try (Stream<Path> vms = Files.list(TestVms.dataDir().resolve("vms"))) {
                for (Path vmDir : vms.toList()) {
                    String name = vmDir.getFileName().toString();
                    if (name.startsWith(Templates.VM_PREFIX)) {
                        vmm.attach(name);
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // no VM yet
            }
            vmm.pausedAll();
            Thread.sleep(200);
        }
        assertThat(other.waitFor()).as("the other JVM's exit status; its output: %s", otherOutput.get()).isZero();
        assertThat(otherOutput.get()).startsWith("BOOTED ").endsWith(" " + TestVms.RUN_PREFIX + "other\n");
        Vm vm = mine.get();
        try {
            assertThat(vm.agent().run(ExecRequest.of("hostname")).stdout()).isEqualTo(TestVms.RUN_PREFIX + "mine\n");
        } finally {
            vm.destroy();
        }
        assertThat(templatesOfThisSize()).as("templates built for %d MiB", MEM_MIB).hasSize(1);

        Vm next = vmm.boot(TestVms.spec("next", 1, MEM_MIB));
        try {
            assertThat(next.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
        } finally {
            next.destroy();
        }
    }

    private static List<Path> templatesOfThisSize() throws IOException {
        try (Stream<Path> templates = Files.list(TestVms.dataDir().resolve("templates"))) {
            return templates.filter(t -> {
                try {
                    Path manifest = t.resolve(Templates.MANIFEST);
                    return Files.exists(manifest) && Files.readString(manifest).contains("\"mem_mib\" : " + MEM_MIB);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }
}
