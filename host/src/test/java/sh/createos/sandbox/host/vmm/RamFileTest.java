package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Templates keep the guest's RAM in a file that every create maps copy-on-write: children read the template's pages
 * and write only their own. Guest memory is written through a tmpfs file in /run.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class RamFileTest {
    /** A memory size no other test uses, so that this class's template is its own. */
    private static final int MEM_MIB = 224;
    private static Path template;

    @BeforeAll
    static void buildTemplate() throws Exception {
        Vm first = TestVms.vmm().boot(TestVms.spec("ram-first", 1, MEM_MIB));
        assertThat(first.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
        first.destroy();
        try (Stream<Path> templates = Files.list(TestVms.dataDir().resolve("templates"))) {
            template = templates.filter(t -> Files.exists(t.resolve(Templates.MANIFEST))).filter(t -> {
                try {
                    return Files.readString(t.resolve(Templates.MANIFEST)).contains("\"mem_mib\" : " + MEM_MIB);
                } catch (IOException e) {
                    return false;
                }
            }).findFirst().orElseThrow();
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void aTemplateIsDeviceStateBesideARamFileThatChildrenMapCopyOnWrite() throws Exception {
        assertThat(Files.size(template.resolve(Templates.RAM))).isEqualTo(MEM_MIB * 1024L * 1024);
        assertThat(Files.size(template.resolve(Templates.MEMORY))).as("device state only").isLessThan(4L * 1024 * 1024);
        Vm child = TestVms.vmm().boot(TestVms.spec("ram-cow", 1, MEM_MIB));
        try {
            String cmdline = String.join(" ", Files.readString(Path.of("/proc", Long.toString(child.pid()), "cmdline")).split("\0"));
            assertThat(cmdline).contains("memory-backend-file,id=ram,size=" + MEM_MIB + "M,mem-path="
                    + template.resolve(Templates.RAM) + ",share=off");
        } finally {
            child.destroy();
        }
    }

    @Test
    void aTemplatedChildAndAForkOfItDivergeWithNoCrossTalkThroughTheSharedFile() throws Exception {
        Vm parent = TestVms.vmm().boot(TestVms.spec("ram-parent", 1, MEM_MIB));
        Vm sibling = TestVms.vmm().boot(TestVms.spec("ram-sibling", 1, MEM_MIB));
        Vm fork = null;
        try {
            assertThat(parent.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
            assertThat(sibling.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
            SnapshotTest.write(parent, "/run/who", "parent");
            assertThat(TestVms.readFile(sibling, "/run/who")).isEqualTo("none");

            PausedVm paused = parent.pause();
            fork = TestVms.vmm().fork(paused, TestVms.spec("ram-fork", 1, MEM_MIB));
            assertThat(TestVms.readFile(fork, "/run/who")).as("the fork keeps its parent's memory").isEqualTo("parent");
            SnapshotTest.write(fork, "/run/who", "fork");
            SnapshotTest.write(sibling, "/run/who", "sibling");
            parent = TestVms.vmm().resume(paused);

            assertThat(TestVms.readFile(parent, "/run/who")).isEqualTo("parent");
            assertThat(TestVms.readFile(fork, "/run/who")).isEqualTo("fork");
            assertThat(TestVms.readFile(sibling, "/run/who")).isEqualTo("sibling");
            Vm fresh = TestVms.vmm().boot(TestVms.spec("ram-fresh", 1, MEM_MIB));
            try {
                assertThat(TestVms.readFile(fresh, "/run/who")).as("a new child sees the template, nothing of the others").isEqualTo("none");
            } finally {
                fresh.destroy();
            }
        } finally {
            for (Vm vm : fork == null ? List.of(parent, sibling) : List.of(parent, sibling, fork)) {
                if (vm.isAlive()) {
                    vm.destroy();
                }
            }
        }
    }

    @Test
    void theTemplatesRamFileIsByteIdenticalAfterTwentyChildrenRanAndWroteToTheirMemory() throws Exception {
        String before = TestVms.sha256(template.resolve(Templates.RAM));
        for (int batch = 0; batch < 10; batch++) {
            List<Vm> children = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    children.add(TestVms.vmm().boot(TestVms.spec("ram-c" + batch + "-" + i, 1, MEM_MIB)));
                }
                for (Vm child : children) {
                    assertThat(child.start().kind()).isEqualTo(VmStart.Kind.TEMPLATE_RESTORE);
                    // 16 MiB of fresh data in guest RAM, and the kernel's own pages rewritten along the way.
                    assertThat(SnapshotTest.run(child, "sh", "-c",
                            "head -c 16M /dev/urandom > /run/fill && sync && wc -c < /run/fill").strip()).isEqualTo("16777216");
                }
            } finally {
                for (Vm child : children) {
                    child.destroy();
                }
            }
        }
        assertThat(TestVms.sha256(template.resolve(Templates.RAM))).isEqualTo(before);
    }
}
