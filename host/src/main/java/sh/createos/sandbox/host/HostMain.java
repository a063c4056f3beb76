package sh.createos.sandbox.host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExitStatus;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.vmm.AcceleratorChoice;
import sh.createos.sandbox.host.vmm.AcceleratorProbe;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;

/**
 * The host runtime on the command line, without the server: boot a VM, run one command in it and throw it away;
 * list the VMs of the data directory; destroy one.
 */
public final class HostMain {
    private static final String USAGE = """
            usage: HostMain run [--image devbox:1] [--vcpus N] [--mem MiB] [--disk MiB] -- CMD [ARG...]
                   HostMain list
                   HostMain destroy ID""";
    private static final long MIB = 1024 * 1024;
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);
    /** Free space on top of the image for a `run` without --disk. */
    private static final int DEFAULT_FREE_DISK_MIB = 1024;

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    public static void main(String[] args) {
        int code;
        try {
            code = new HostMain().dispatch(List.of(args));
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(USAGE);
            code = 2;
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    private int dispatch(List<String> args) throws Exception {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("no command");
        }
        List<String> rest = args.subList(1, args.size());
        return switch (args.getFirst()) {
            case "run" -> run(rest);
            case "list" -> list(rest);
            case "destroy" -> destroy(rest);
            default -> throw new IllegalArgumentException("unknown command '" + args.getFirst() + "'");
        };
    }

    private int run(List<String> args) throws Exception {
        String image = "devbox:1";
        int vcpus = 1;
        int memMib = 512;
        Integer diskMib = null;
        int i = 0;
        for (; i < args.size() && !args.get(i).equals("--"); i += 2) {
            String option = args.get(i);
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            String value = args.get(i + 1);
            switch (option) {
                case "--image" -> image = value;
                case "--vcpus" -> vcpus = number(option, value);
                case "--mem" -> memMib = number(option, value);
                case "--disk" -> diskMib = number(option, value);
                default -> throw new IllegalArgumentException("unknown option '" + option + "'");
            }
        }
        if (i >= args.size() - 1) {
            throw new IllegalArgumentException("run needs `-- CMD`");
        }
        List<String> command = args.subList(i + 1, args.size());

        Path dataDir = DataDir.fromEnvironment();
        GuestKit kit = GuestKit.load(dataDir);
        if (diskMib == null) {
            diskMib = (int) ((Files.size(kit.image(image)) + MIB - 1) / MIB) + DEFAULT_FREE_DISK_MIB;
        }
        String id = "run-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        AcceleratorChoice accelerator = AcceleratorProbe.choose(dataDir, kit);
        QemuVmm vmm = new QemuVmm(dataDir, kit, accelerator.accelerator(), BOOT_TIMEOUT);
        long started = System.nanoTime();
        Vm vm = vmm.boot(new VmSpec(id, image, vcpus, memMib, diskMib, id));
        err.printf("[createos] VM %s booted in %d ms (%s)%n", id, (System.nanoTime() - started) / 1_000_000,
                accelerator);
        // Ctrl-C on this process must not leave the VM behind.
        Thread cleanup = new Thread(() -> destroyQuietly(vm));
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            ExitStatus status = execStreaming(vm, command);
            err.println("[createos] exit code " + status.code()
                    + (status.signal() == null ? "" : " (signal " + status.signal() + ")"));
            return status.code();
        } finally {
            if (removeShutdownHook(cleanup)) {
                vm.destroy();
            }
        }
    }

    /** False when the JVM is already shutting down: then the hook itself destroys the VM. */
    private static boolean removeShutdownHook(Thread hook) {
        try {
            return Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    /** Runs {@code command} with its stdout and stderr copied to ours as they arrive. */
    private ExitStatus execStreaming(Vm vm, List<String> command) throws Exception {
        try (ExecSession session = vm.agent().exec(ExecRequest.of(command.toArray(String[]::new)))) {
            Thread stdout = Thread.ofVirtual().start(() -> copy(session.stdout(), out));
            Thread stderr = Thread.ofVirtual().start(() -> copy(session.stderr(), err));
            ExitStatus status = session.waitFor();
            stdout.join();
            stderr.join();
            return status;
        }
    }

    private int list(List<String> args) throws IOException {
        if (!args.isEmpty()) {
            throw new IllegalArgumentException("list takes no arguments");
        }
        List<Vm> vms = new ArrayList<>(QemuVmm.fromEnvironment().attachAll());
        out.printf("%-28s %8s %-10s %5s %7s %8s%n", "ID", "PID", "IMAGE", "VCPUS", "MEM_MIB", "DISK_MIB");
        for (Vm vm : vms) {
            VmSpec spec = vm.spec();
            out.printf("%-28s %8d %-10s %5d %7d %8d%n", vm.id(), vm.pid(), spec.image(), spec.vcpus(), spec.memMib(),
                    spec.diskMib());
            vm.close();
        }
        return 0;
    }

    private int destroy(List<String> args) throws IOException {
        if (args.size() != 1) {
            throw new IllegalArgumentException("destroy takes one VM id");
        }
        Optional<Vm> vm = QemuVmm.fromEnvironment().attach(args.getFirst());
        if (vm.isEmpty()) {
            err.println("no running VM " + args.getFirst());
            return 1;
        }
        vm.get().destroy();
        err.println("destroyed " + args.getFirst());
        return 0;
    }

    private static int number(String option, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, not '" + value + "'");
        }
    }

    private static void copy(InputStream from, OutputStream to) {
        byte[] buf = new byte[32768];
        try (from) {
            for (int n; (n = from.read(buf)) > 0; ) {
                to.write(buf, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            System.err.println("[createos] output stream broke: " + e.getMessage());
        }
    }

    private void destroyQuietly(Vm vm) {
        try {
            vm.destroy();
        } catch (IOException e) {
            err.println("[createos] could not destroy VM " + vm.id() + ": " + e.getMessage());
        }
    }
}
