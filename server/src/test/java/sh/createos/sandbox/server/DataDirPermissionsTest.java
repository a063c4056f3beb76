package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a paused sandbox's memory.snap was 0644, overlays 0644, layers 0444 and directories 0755, so user
 * {@code nobody} read an env secret out of a snapshot. A start closes what an older version left open.
 */
class DataDirPermissionsTest {
    @TempDir
    Path dir;

    @Test
    void aStartClosesTheDataDirectoryAndWhatItHoldsOfItsSandboxes() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path vm = Files.createDirectories(data.resolve("vms/sb-01abc"));
        Path snapshot = Files.writeString(vm.resolve("memory.snap"), "secret=hunter2");
        Files.setPosixFilePermissions(snapshot, PosixFilePermissions.fromString("rw-r--r--"));
        Path layer = Files.writeString(Files.createDirectories(data.resolve("layers")).resolve("l1.qcow2"), "x");
        Files.setPosixFilePermissions(layer, PosixFilePermissions.fromString("r--r--r--"));
        Path kitFile = Files.writeString(Files.createDirectories(data.resolve("kit")).resolve("manifest.json"), "{}");
        Files.setPosixFilePermissions(kitFile, PosixFilePermissions.fromString("rw-r--r--"));

        try (TestApi api = TestApi.start(data, false)) {
            assertThat(mode(data)).isEqualTo("rwx------");
            assertThat(mode(data.resolve("vms"))).isEqualTo("rwx------");
            assertThat(mode(vm)).isEqualTo("rwx------");
            assertThat(mode(snapshot)).isEqualTo("rw-------");
            assertThat(mode(layer)).isEqualTo("r--------");
            assertThat(mode(data.resolve("control.db"))).isEqualTo("rw-------");
            assertThat(mode(kitFile)).as("the kit holds no secret and is shared by hard links").isEqualTo("rw-r--r--");
        }
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }
}
