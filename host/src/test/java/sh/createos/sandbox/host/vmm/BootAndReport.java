package sh.createos.sandbox.host.vmm;

import sh.createos.sandbox.host.agent.ExecRequest;

/**
 * The "other process on the same data directory" of {@link TemplateAcrossProcessesTest}: boots one VM (building its
 * template if nobody else is), prints {@code BOOTED <start kind> <hostname>}, destroys it and exits.
 */
public final class BootAndReport {
    public static void main(String[] args) throws Exception {
        String id = args[0]; // the test's own prefix, so that its cleanup finds this VM too
        Vm vm = QemuVmm.fromEnvironment().boot(new VmSpec(id, TestVms.IMAGE, 1, Integer.parseInt(args[1]),
                TestVms.imageMib(TestVms.IMAGE) + 256, id));
        try {
            String hostname = vm.agent().run(ExecRequest.of("hostname")).stdout().strip();
            System.out.println("BOOTED " + vm.start().kind() + " " + hostname);
        } finally {
            vm.destroy();
        }
    }
}
