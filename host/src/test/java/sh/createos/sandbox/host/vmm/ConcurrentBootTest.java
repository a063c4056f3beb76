package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;

/** Ten VMs at once on a two-core machine: each boots, answers with its own hostname, and is destroyed cleanly. */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ConcurrentBootTest {
    private static final int VMS = 10;
    private static final int MEM_MIB = 160;

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void tenVmsBootRunAndAreDestroyedConcurrently() throws Exception {
        TestVms.kit();
        long started = System.nanoTime();
        List<Future<String>> outcomes = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < VMS; i++) {
                VmSpec spec = TestVms.spec("many-" + i, 1, MEM_MIB);
                outcomes.add(pool.submit(() -> bootRunDestroy(spec)));
            }
        }
        List<String> hostnames = new ArrayList<>();
        for (Future<String> outcome : outcomes) {
            hostnames.add(outcome.get());
        }
        System.out.printf("%d concurrent VMs booted, ran a command and were destroyed in %d ms%n",
                VMS, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));

        List<String> expected = new ArrayList<>();
        for (int i = 0; i < VMS; i++) {
            expected.add(TestVms.RUN_PREFIX + "many-" + i);
        }
        assertThat(hostnames).containsExactlyElementsOf(expected);
    }

    /** Returns the guest's hostname after checking that nothing of the VM is left. */
    private static String bootRunDestroy(VmSpec spec) throws IOException {
        Vm vm = TestVms.vmm().boot(spec);
        long pid = vm.pid();
        ExecResult result;
        try {
            result = vm.agent().run(ExecRequest.of("cat", "/proc/sys/kernel/hostname"));
        } finally {
            vm.destroy();
        }
        TestVms.assertNothingLeft(spec.id(), pid);
        assertThat(result.exitCode()).isZero();
        return result.stdout().strip();
    }
}
