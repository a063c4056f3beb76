package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sh.createos.sandbox.host.agent.AgentTimeoutException;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.proc.Command;

/**
 * Issue 18 item 9 on real VMs: a guest whose agent is gone, and a VM that hangs, fail the calls waiting on them
 * (at once, or at their deadline) and still destroy. The agent is the guest's PID 1, which the guest can neither
 * stop nor kill; it loses its port when the guest unbinds the virtio-serial device, and QEMU is frozen with SIGSTOP.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AgentLossTest {
    /** Unbinds the device of the agent's port: the guest closes the port, as when the agent dies. */
    static final String UNBIND = "p=$(readlink -f /sys/class/virtio-ports/vport*); v=${p%/virtio-ports/*};"
            + " sleep 1; echo -n ${v##*/} > /sys/bus/virtio/drivers/virtio_console/unbind";

    @AfterAll
    static void cleanUp() throws IOException {
        TestVms.destroyLeftovers();
    }

    @Test
    void aGuestThatClosesTheAgentsPortFailsEveryWaitingCallAtOnceAndStillDestroys() throws Exception {
        Vm vm = TestVms.vmm().boot(TestVms.spec("agent-gone", 1, 256));
        long pid = vm.pid();
        // So long that only the loss itself can end the waits within this test's timeout.
        vm.agent().answerTimeout(Duration.ofMinutes(30));
        ExecSession sleeping = vm.agent().exec(ExecRequest.of("sleep", "600"));
        ExecSession unbind = vm.agent().exec(ExecRequest.of("sh", "-c", UNBIND));
        assertThatThrownBy(sleeping::waitFor).hasMessageContaining("closed the agent's port");
        assertThatThrownBy(unbind::waitFor).hasMessageContaining("closed the agent's port");
        assertThatThrownBy(() -> vm.agent().stat("/")).hasMessageContaining("closed the agent's port");
        assertThatThrownBy(() -> vm.resizeDisk(vm.spec().diskMib() + 64))
                .isInstanceOf(IOException.class).hasMessageContaining("closed the agent's port");
        vm.destroy();
        TestVms.assertNothingLeft(vm.id(), pid);
    }

    @Test
    void aFrozenVmFailsCallsAtTheirDeadlineAndStillDestroys() throws Exception {
        Vm vm = TestVms.vmm().boot(TestVms.spec("frozen", 1, 256));
        long pid = vm.pid();
        vm.agent().answerTimeout(Duration.ofSeconds(2));
        assertThat(vm.agent().stat("/").type()).isEqualTo("dir");
        Command.of("kill", "-STOP", Long.toString(pid)).run();
        try {
            assertThatThrownBy(() -> vm.agent().exec(ExecRequest.of("true")))
                    .isInstanceOf(AgentTimeoutException.class).hasMessageContaining("did not answer within 2000 ms");
            assertThatThrownBy(() -> vm.agent().stat("/")).isInstanceOf(AgentTimeoutException.class);
            // QMP does not answer either: quit times out, and the VMM is killed (SIGKILL ends a stopped process).
            vm.destroy();
        } finally {
            Command.of("kill", "-CONT", Long.toString(pid)).run();
        }
        TestVms.assertNothingLeft(vm.id(), pid);
    }
}
