package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.host.agent.GuestNetwork;
import sh.createos.sandbox.host.kit.GuestKit;

class QemuCommandLineTest {
    private static final GuestKit KIT = new GuestKit(Path.of("/kit/vmlinuz"), Path.of("/kit/initramfs.img"), "6.1.0-x",
            Map.of("devbox:1", Path.of("/images/devbox.ext4")));
    private static final VmSpec SPEC = new VmSpec("vm-1", "devbox:1", 2, 256, 2048, "box");

    @Test
    void bootsAMicrovmFromTheKitWithTheAgentPortQmpAndConsole() {
        List<String> argv = QemuCommandLine.forVm(SPEC, KIT, new VmDirectory(Path.of("/data/vms/vm-1")), Accelerator.TCG, null).argv();

        assertThat(argv.getFirst()).isEqualTo("qemu-system-x86_64");
        assertThat(String.join(" ", argv)).contains(
                "-M microvm,rtc=on,pit=on,pic=on",
                "-smp 2 -m 256M",
                "-nodefaults -no-user-config -nographic",
                "-kernel /kit/vmlinuz -initrd /kit/initramfs.img",
                "-drive id=root,file=/data/vms/vm-1/overlay.qcow2,format=qcow2,if=none -device virtio-blk-device,drive=root",
                "-chardev socket,id=agent,path=/data/vms/vm-1/agent.sock,server=on,wait=off",
                "-device virtio-serial-device -device virtserialport,chardev=agent,name=createos.agent,id=agent-port",
                "-chardev socket,id=qmp,path=/data/vms/vm-1/qmp.sock,server=on,wait=off -mon chardev=qmp,mode=control",
                "-chardev file,id=console,path=/data/vms/vm-1/console.log -serial chardev:console",
                "-daemonize -pidfile /data/vms/vm-1/qemu.pid");
        assertThat(argv.get(argv.indexOf("-append") + 1))
                .startsWith("console=ttyS0 root=/dev/vda rw quiet")
                .contains("createos.hostname=box", "createos.id=vm-1");
        // Without a NIC from the host the device is there all the same, on a backend with no connectivity.
        assertThat(String.join(" ", argv)).contains(
                "-netdev hubport,id=net0,hubid=0 -device virtio-net-device,netdev=net0,mac=02:c5:ff:ff:ff:fe");
    }

    @Test
    void aConnectedVmHasTheSameDeviceOnItsTap() {
        VmNic nic = new VmNic("csb7", new GuestNetwork("02:c5:0a:c8:00:1e", List.of("10.200.0.30/30"), "10.200.0.29",
                List.of(), List.of("10.200.0.29"), List.of("fc.local"), null));
        List<String> argv = QemuCommandLine.forVm(SPEC, KIT, new VmDirectory(Path.of("/data/vms/vm-1")), Accelerator.TCG, nic).argv();

        assertThat(String.join(" ", argv)).contains("-netdev tap,id=net0,ifname=csb7,script=no,downscript=no,vnet_hdr=off"
                + " -device virtio-net-device,netdev=net0,mac=02:c5:0a:c8:00:1e");
        assertThat(argv.stream().filter(a -> a.startsWith("virtio-net-device"))).hasSize(1);
    }

    @Test
    void acceleratorPicksCpuModelAndTcgThreading() {
        assertThat(Accelerator.KVM.qemuArgs(1)).containsExactly("-accel", "kvm", "-cpu", "host");
        assertThat(Accelerator.TCG.qemuArgs(1)).containsExactly("-accel", "tcg,tb-size=64", "-cpu", "max");
        assertThat(Accelerator.TCG.qemuArgs(4)).containsExactly("-accel", "tcg,thread=multi,tb-size=64", "-cpu", "max");
    }

    @Test
    void tcgGuestsAreToldTheHostsTscRate() throws Exception {
        assertThat(Accelerator.KVM.kernelArgs()).isEmpty();
        if (Files.readString(Path.of("/proc/cpuinfo")).contains(" constant_tsc")) {
            assertThat(Accelerator.TCG.kernelArgs()).singleElement().asString().matches("tsc_early_khz=[1-9]\\d{5,}");
            List<String> argv = QemuCommandLine.forVm(SPEC, KIT, new VmDirectory(Path.of("/d/vms/vm-1")), Accelerator.TCG, null).argv();
            assertThat(argv.get(argv.indexOf("-append") + 1)).contains(Accelerator.TCG.kernelArgs().getFirst());
        }
    }

    @Test
    void commasInPathsAreEscapedForQemuOptions() {
        List<String> argv = QemuCommandLine.forVm(SPEC, KIT, new VmDirectory(Path.of("/data,x/vms/vm-1")), Accelerator.KVM, null).argv();

        assertThat(argv).contains("socket,id=qmp,path=/data,,x/vms/vm-1/qmp.sock,server=on,wait=off");
    }

    @Test
    void guestRamIsTheBackendRamAnonymousAFileOrAsBeforeBackends() {
        VmDirectory dir = new VmDirectory(Path.of("/data/vms/vm-1"));
        assertThat(String.join(" ", QemuCommandLine.forVm(SPEC, KIT, dir, Accelerator.TCG, null).argv()))
                .contains("-M microvm,rtc=on,pit=on,pic=on,memory-backend=ram -object memory-backend-ram,id=ram,size=256M ");
        assertThat(String.join(" ", QemuCommandLine.forVm(SPEC, KIT, dir, Accelerator.TCG, null,
                GuestRam.privateFile(Path.of("/data/templates/k,1/ram"))).argv()))
                .contains("-object memory-backend-file,id=ram,size=256M,mem-path=/data/templates/k,,1/ram,share=off ");
        assertThat(String.join(" ", QemuCommandLine.forVm(SPEC, KIT, dir, Accelerator.TCG, null,
                GuestRam.sharedFile(dir.ramFile())).argv())).contains("mem-path=/data/vms/vm-1/ram,share=on ");
        assertThat(String.join(" ", QemuCommandLine.forVm(SPEC, KIT, dir, Accelerator.TCG, null, GuestRam.LEGACY).argv()))
                .contains("-M microvm,rtc=on,pit=on,pic=on -accel").doesNotContain("memory-backend");
    }
}
