package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.time.Duration;
import sh.createos.sandbox.host.proc.Command;

/** The first line of {@code qemu-system-x86_64 --version}, asked once per process. */
final class QemuVersion {
    private static volatile String version;

    private QemuVersion() {}

    static String get() throws IOException {
        String known = version;
        if (known == null) {
            String out = Command.of(QemuCommandLine.BINARY, "--version").timeout(Duration.ofSeconds(20)).run().stdout();
            known = out.strip().lines().findFirst().orElse("");
            version = known;
        }
        return known;
    }
}
