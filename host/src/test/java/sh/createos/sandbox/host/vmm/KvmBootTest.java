package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.ExecRequest;

/** The KVM path; skipped, with the probe's reason, where the kit's kernel does not boot under KVM. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KvmBootTest {
    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void bootsUnderKvmWhereKvmIsUsable() throws Exception {
        AcceleratorChoice probed = AcceleratorProbe.choose(TestVms.dataDir(), TestVms.kit(), "auto");
        assumeTrue(probed.accelerator() == Accelerator.KVM, "needs KVM, which the probe rules out: " + probed.reason());
        QemuVmm vmm = new QemuVmm(TestVms.dataDir(), TestVms.kit(), Accelerator.KVM, TestVms.BOOT_TIMEOUT);

        Vm vm = vmm.boot(TestVms.spec("kvm", 1, 256));
        long pid = vm.pid();
        try {
            assertThat(vm.agent().run(ExecRequest.of("uname", "-r")).stdout().strip())
                    .isEqualTo(TestVms.kit().kernelVersion());
            assertThat(String.join(" ", Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"))
                    .split("\0"))).contains("-accel kvm -cpu host");
        } finally {
            vm.destroy();
        }
        TestVms.assertNothingLeft(vm.id(), pid);
    }
}
