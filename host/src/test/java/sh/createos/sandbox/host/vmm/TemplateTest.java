package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Templates that must not be used: a broken one is dropped (the create cold boots), an outdated one removed. */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TemplateTest {
    /** A memory size no other test uses, so that this test's template is its own. */
    private static final int MEM_MIB = 200;

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void aTemplateThatNoLongerRestoresIsDroppedAndTheCreateColdBoots() throws Exception {
        Vm first = TestVms.vmm().boot(TestVms.spec("tpl-first", 1, MEM_MIB));
        assertThat(first.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
        first.destroy();
        Path template = templateWithMemory(MEM_MIB);
        try (RandomAccessFile memory = new RandomAccessFile(template.resolve("memory.snap").toFile(), "rw")) {
            memory.setLength(memory.length() / 2);
        }

        Vm second = TestVms.vmm().boot(TestVms.spec("tpl-second", 1, MEM_MIB));
        try {
            assertThat(second.start().kind()).isEqualTo(VmStart.Kind.COLD_BOOT);
            assertThat(SnapshotTest.run(second, "hostname").strip()).isEqualTo(second.spec().hostname());
            assertThat(template).as("the broken template").doesNotExist();
        } finally {
            second.destroy();
        }
    }

    @Test
    void aTemplateOfAnotherKitIsRemovedOnceNoVmUsesIt() throws Exception {
        Path stale = TestVms.dataDir().resolve("templates").resolve(TestVms.RUN_PREFIX + "stale");
        Files.createDirectories(stale);
        Files.writeString(stale.resolve("template.json"), """
                {"key":"x","kit":"an-older-kit","image":"devbox:1","vcpus":1,"mem_mib":256,"disk_mib":1024}""");
        Files.writeString(stale.resolve("memory.snap"), "old");

        TestVms.vmm().pausedAll();

        assertThat(stale).doesNotExist();
    }

    @Test
    void theVmOfATemplateBuildThatDiedWithItsProcessIsRemoved() throws Exception {
        VmSpec spec = TestVms.spec("x", 1, 128);
        String id = Templates.VM_PREFIX + spec.id();
        Vm orphan = TestVms.vmm().withoutTemplates().boot(new VmSpec(id, TestVms.IMAGE, 1, 128, spec.diskMib(), "template"));
        long pid = orphan.pid();
        orphan.close(); // its builder "died"
        try {
            QemuVmm restarted = new QemuVmm(TestVms.dataDir(), TestVms.kit(), TestVms.vmm().accelerator(), TestVms.BOOT_TIMEOUT);
            assertThat(restarted.attachAll()).extracting(Vm::id).doesNotContain(id);
            TestVms.assertNothingLeft(id, pid);
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private static Path templateWithMemory(int memMib) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> templates = Files.list(TestVms.dataDir().resolve("templates"))) {
            List<Path> matching = templates.filter(t -> Files.exists(t.resolve("template.json"))).filter(t -> {
                try {
                    return json.readTree(t.resolve("template.json").toFile()).path("mem_mib").asInt() == memMib;
                } catch (IOException e) {
                    return false;
                }
            }).toList();
            assertThat(matching).hasSize(1);
            return matching.getFirst();
        }
    }
}
