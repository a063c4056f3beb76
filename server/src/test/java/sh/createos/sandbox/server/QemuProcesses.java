package sh.createos.sandbox.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The QEMU processes that serve a data directory's VMs, found by their QMP socket on the command line: a VM's is in
 * {@code vms/<id>/} (a paused sandbox's background conversion in {@code vms/<id>/convert/}), except for a VM created
 * from a pre-started QEMU, whose socket stayed in {@code pool/<member>/}, a link to {@code vms/<id>} once claimed.
 * Members still waiting in the pool serve no VM and are not listed. (The socket, not any path: a fork of a converted
 * snapshot also names its parent's directory, whose RAM file it maps.)
 */
public final class QemuProcesses {
    /** One QEMU: the VM it serves, its pid, and whether it is a snapshot conversion (which never runs vCPUs). */
    public record Vmm(String vmId, long pid, boolean conversion) {}

    private QemuProcesses() {}

    public static List<Vmm> of(Path dataDir) {
        Path data = dataDir.toAbsolutePath();
        Pattern vm = Pattern.compile(Pattern.quote(data + "/vms/") + "([a-z0-9-]+)/(convert/)?qmp\\.sock");
        Pattern pooled = Pattern.compile(Pattern.quote(data + "/pool/") + "([a-z0-9-]+)/qmp\\.sock");
        List<Vmm> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            String line = p.info().commandLine().orElse("");
            if (!line.contains("qemu-system")) {
                return;
            }
            Matcher m = vm.matcher(line);
            if (m.find()) {
                found.add(new Vmm(m.group(1), p.pid(), m.group(2) != null));
                return;
            }
            Matcher member = pooled.matcher(line);
            if (member.find()) {
                Path link = data.resolve("pool").resolve(member.group(1));
                if (Files.isSymbolicLink(link)) {
                    try {
                        found.add(new Vmm(Files.readSymbolicLink(link).getFileName().toString(), p.pid(), false));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        });
        return found;
    }
}
