package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.proc.Command;

/** The accelerator probe against this host's real /dev/kvm and the real guest kit. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AcceleratorProbeTest {
    @Test
    void theKitPrintsTheProbesMarkerWhenItsKernelReachesUserSpace(@TempDir Path tmp) throws Exception {
        // Under TCG the probe's guest always runs: this proves the marker a KVM probe looks for is really printed,
        // so that a "no" from the probe is the accelerator's fault, never the probe's.
        Path console = tmp.resolve("console.log");
        Command.of(AcceleratorProbe.probeCommand(TestVms.kit(), console, Accelerator.TCG)).timeout(Duration.ofSeconds(90)).run();
        assertThat(Files.readString(console)).contains(AcceleratorProbe.MARKER);
    }

    @Test
    void autoProbesOncePerHostBootAndCachesTheFindingInTheDataDirectory(@TempDir Path dataDir) throws Exception {
        long started = System.nanoTime();
        AcceleratorChoice choice = AcceleratorProbe.choose(dataDir, TestVms.kit(), "auto");
        long ms = (System.nanoTime() - started) / 1_000_000;

        assertThat(choice.reason()).isNotBlank();
        // Bounded: a /dev/kvm that cannot run the guest costs at most the boot limit (plus QEMU's start and exit).
        assertThat(ms).isLessThan(AcceleratorProbe.BOOT_LIMIT.toMillis() + 10_000);
        if (choice.accelerator() == Accelerator.TCG && Files.exists(Accelerator.KVM_DEVICE)) {
            assertThat(choice.reason()).contains("/dev/kvm");
        }
        AcceleratorProbe.Cached cached = new ObjectMapper().readValue(dataDir.resolve(AcceleratorProbe.CACHE_FILE).toFile(),
                AcceleratorProbe.Cached.class);
        assertThat(cached.accelerator()).isEqualTo(choice.accelerator());
        assertThat(cached.key()).matches("[0-9a-f]{64}");
        assertThat(AcceleratorProbe.choose(dataDir, TestVms.kit(), null)).isEqualTo(choice);
    }

    @Test
    void kvmOrTcgForceTheAcceleratorAndAnythingElseIsRejected(@TempDir Path dataDir) {
        assertThat(AcceleratorProbe.choose(dataDir, null, "tcg").accelerator()).isEqualTo(Accelerator.TCG);
        assertThat(AcceleratorProbe.choose(dataDir, null, " KVM ").accelerator()).isEqualTo(Accelerator.KVM);
        assertThat(AcceleratorProbe.choose(dataDir, null, "kvm").reason()).contains("forced");
        assertThat(dataDir.resolve(AcceleratorProbe.CACHE_FILE)).doesNotExist();
        assertThatThrownBy(() -> AcceleratorProbe.choose(dataDir, null, "hvf"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("auto, kvm, tcg");
    }
}
