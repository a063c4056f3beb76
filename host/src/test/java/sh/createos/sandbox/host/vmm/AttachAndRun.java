package sh.createos.sandbox.host.vmm;

import java.util.Arrays;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;

/**
 * The "restarted control plane" of {@link VmLifecycleTest}: a separate JVM that attaches to a VM by id, runs a
 * command in it, prints the command's stdout and then {@code ATTACHED <qemu pid>}, and waits to be killed.
 */
public final class AttachAndRun {
    public static void main(String[] args) throws Exception {
        String id = args[0];
        Vm vm = QemuVmm.fromEnvironment().attach(id).orElseThrow(() -> new IllegalStateException("no live VM " + id));
        ExecResult result = vm.agent().run(ExecRequest.of(Arrays.copyOfRange(args, 1, args.length)));
        System.out.print(result.stdout());
        System.out.println("ATTACHED " + vm.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
