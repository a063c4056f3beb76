package sh.createos.sandbox.host.vmm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.host.kit.GuestKit;

/**
 * The qemu-system-x86_64 command line of one VM, built section by section so that later devices (network, vsock,
 * snapshot restore) are one more method. QEMU daemonizes: its foreground process exits once the VM is set up (or
 * reports why it could not be on stderr) and the VMM lives on in its own session, detached from the JVM.
 */
final class QemuCommandLine {
    static final String BINARY = "qemu-system-x86_64";
    /** The block backend of the root disk, as QMP's block_resize names it. */
    static final String ROOT_DRIVE = "root";
    static final String AGENT_PORT = "createos.agent";
    /** The agent port's device id, which its VSERPORT_CHANGE events name. */
    static final String AGENT_PORT_ID = "agent-port";

    private final List<String> args = new ArrayList<>(List.of(BINARY));

    private QemuCommandLine() {}

    /** The network device's id; its backend id is the same. */
    static final String NIC = "net0";
    /** The MAC of a VM without a NIC from the host (no connectivity): its device must exist all the same. */
    static final String UNCONNECTED_MAC = "02:c5:ff:ff:ff:fe";

    /** {@code nic} null: the NIC is on a backend with no connectivity. */
    static QemuCommandLine forVm(VmSpec spec, GuestKit kit, VmDirectory dir, Accelerator accelerator, VmNic nic) {
        return forVm(spec, kit, dir, accelerator, nic, GuestRam.ANONYMOUS);
    }

    static QemuCommandLine forVm(VmSpec spec, GuestKit kit, VmDirectory dir, Accelerator accelerator, VmNic nic, GuestRam ram) {
        return new QemuCommandLine()
                .machine(spec, accelerator, ram)
                .kernel(spec, kit, accelerator)
                .rootDisk(dir.overlay())
                .nic(nic)
                .agentChannel(dir.agentSocket())
                .qmp(dir.qmpSocket())
                .serialConsole(dir.consoleLog())
                .daemonize(dir.pidFile());
    }

    /** Waits for {@code migrate-incoming} over QMP, after which the VM starts from the state it receives. */
    QemuCommandLine awaitingIncoming() {
        return add("-incoming", "defer");
    }

    /** The exec: URI that streams {@code file} into QEMU. */
    static String catUri(Path file) {
        return "exec:cat " + shellQuote(file.toString());
    }

    /** Starts the VM from a saved memory + device state instead of booting its kernel. */
    QemuCommandLine restoringFrom(Path memory) {
        return add("-incoming", "exec:cat " + shellQuote(memory.toString()));
    }

    List<String> argv() {
        return List.copyOf(args);
    }

    private QemuCommandLine add(String... more) {
        args.addAll(List.of(more));
        return this;
    }

    private QemuCommandLine machine(VmSpec spec, Accelerator accelerator, GuestRam ram) {
        // rtc, pit and pic keep the guest's timers working across a snapshot restore under QEMU 7.2.
        add("-M", "microvm,rtc=on,pit=on,pic=on" + ram.machineOption());
        args.addAll(ram.qemuArgs(spec.memMib()));
        args.addAll(accelerator.qemuArgs(spec.vcpus()));
        // -no-reboot: a guest that reboots or panics (panic=-1 below) ends the VMM instead of looping.
        return add("-smp", Integer.toString(spec.vcpus()), "-m", spec.memMib() + "M",
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot");
    }

    private QemuCommandLine kernel(VmSpec spec, GuestKit kit, Accelerator accelerator) {
        List<String> cmdline = new ArrayList<>(List.of("console=ttyS0", "root=/dev/vda", "rw", "quiet", "panic=-1"));
        cmdline.addAll(accelerator.kernelArgs());
        cmdline.add("createos.hostname=" + spec.hostname());
        cmdline.add("createos.id=" + spec.id());
        return add("-kernel", kit.kernel().toString(), "-initrd", kit.initrd().toString(),
                "-append", String.join(" ", cmdline));
    }

    private QemuCommandLine rootDisk(Path overlay) {
        return add("-drive", "id=" + ROOT_DRIVE + ",file=" + option(overlay) + ",format=qcow2,if=none",
                "-device", "virtio-blk-device,drive=" + ROOT_DRIVE);
    }

    /**
     * Every VM has exactly one virtio-net device, so that any snapshot restores onto the same device layout; only its
     * backend differs: the host's tap, or a hub port with nothing else on it. vnet_hdr is off so that both backends
     * offer the guest the same features (a snapshot taken on one restores on the other).
     */
    private QemuCommandLine nic(VmNic nic) {
        String backend = nic == null ? "hubport,id=" + NIC + ",hubid=0"
                : "tap,id=" + NIC + ",ifname=" + nic.tap() + ",script=no,downscript=no,vnet_hdr=off";
        String mac = nic == null ? UNCONNECTED_MAC : nic.mac();
        return add("-netdev", backend, "-device", "virtio-net-device,netdev=" + NIC + ",mac=" + mac);
    }

    /** A virtio-serial port the agent opens in the guest; QEMU serves its host end as a Unix socket. */
    private QemuCommandLine agentChannel(Path socket) {
        return add("-chardev", "socket,id=agent,path=" + option(socket) + ",server=on,wait=off",
                "-device", "virtio-serial-device",
                // The id makes QEMU report the guest opening and closing the port (VSERPORT_CHANGE): how the host
                // learns at once that the agent is gone while the socket stays open.
                "-device", "virtserialport,chardev=agent,name=" + AGENT_PORT + ",id=" + AGENT_PORT_ID);
    }

    private QemuCommandLine qmp(Path socket) {
        return add("-chardev", "socket,id=qmp,path=" + option(socket) + ",server=on,wait=off",
                "-mon", "chardev=qmp,mode=control");
    }

    private QemuCommandLine serialConsole(Path log) {
        return add("-chardev", "file,id=console,path=" + option(log), "-serial", "chardev:console");
    }

    private QemuCommandLine daemonize(Path pidFile) {
        return add("-daemonize", "-pidfile", pidFile.toString());
    }

    /** QEMU runs an exec: migration URI with /bin/sh. */
    private static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    /** QEMU's option parser ends a value at a comma; a literal comma is written twice. */
    private static String option(Path path) {
        return path.toString().replace(",", ",,");
    }
}
