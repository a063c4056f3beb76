package sh.createos.sandbox.host.kit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestKitTest {
    @TempDir
    Path data;

    @Test
    void loadsTheManifestWrittenBySetup() throws Exception {
        Path kernel = touch("kit/kernel-abc/vmlinuz");
        Path initrd = touch("kit/initramfs-abc.img");
        Path image = touch("images/devbox-1-abc.ext4");
        writeManifest("""
                {"kernel":"%s","initrd":"%s","kernel_version":"6.1.0-28-cloud-amd64",
                 "images":{"devbox:1":"%s"},"built_at":"ignored"}""".formatted(kernel, initrd, image));

        GuestKit kit = GuestKit.load(data);

        assertThat(kit.kernel()).isEqualTo(kernel);
        assertThat(kit.initrd()).isEqualTo(initrd);
        assertThat(kit.kernelVersion()).isEqualTo("6.1.0-28-cloud-amd64");
        assertThat(kit.image("devbox:1")).isEqualTo(image);
        assertThat(kit.info("devbox:1")).isEqualTo(new GuestKit.ImageInfo(null, false, null, false));
    }

    @Test
    void readsWhatTheCatalogSaysOfEachImage() throws Exception {
        writeManifest("""
                {"kernel":"%s","initrd":"%s","kernel_version":"v","images":{"devbox:1":"%s","devbox:2":"%s"},
                 "catalog":{"devbox:1":{"description":"old box","deprecated":true,"successor":"devbox:2"},
                            "devbox:2":{"description":"new box","desktop":true}}}"""
                .formatted(touch("k"), touch("i"), touch("d1"), touch("d2")));
        GuestKit kit = GuestKit.load(data);

        assertThat(kit.info("devbox:1")).isEqualTo(new GuestKit.ImageInfo("old box", true, "devbox:2", false));
        assertThat(kit.info("devbox:2")).isEqualTo(new GuestKit.ImageInfo("new box", false, null, true));
    }

    @Test
    void unknownImageNamesTheKnownOnes() throws Exception {
        writeManifest("""
                {"kernel":"%s","initrd":"%s","kernel_version":"v","images":{"devbox:1":"%s"}}"""
                .formatted(touch("k"), touch("i"), touch("d")));
        GuestKit kit = GuestKit.load(data);

        assertThatThrownBy(() -> kit.image("ubuntu:24"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ubuntu:24").hasMessageContaining("devbox:1");
    }

    @Test
    void missingKitTellsToRunSetup() {
        assertThatThrownBy(() -> GuestKit.load(data))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(data.resolve("kit/manifest.json").toString())
                .hasMessageContaining("bin/createos-sandbox setup");
    }

    @Test
    void manifestNamingAMissingFileIsRejected() throws Exception {
        writeManifest("""
                {"kernel":"%s","initrd":"/nonexistent/initrd.img","kernel_version":"v","images":{}}"""
                .formatted(touch("k")));

        assertThatThrownBy(() -> GuestKit.load(data))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("/nonexistent/initrd.img").hasMessageContaining("setup");
    }

    @Test
    void incompleteManifestIsRejected() throws Exception {
        writeManifest("{\"kernel\":\"/k\"}");

        assertThatThrownBy(() -> GuestKit.load(data))
                .isInstanceOf(IOException.class).hasMessageContaining("incomplete");
    }

    private Path touch(String relative) throws IOException {
        Path file = data.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, "x");
    }

    private void writeManifest(String json) throws IOException {
        Files.createDirectories(data.resolve("kit"));
        Files.writeString(data.resolve("kit/manifest.json"), json);
    }
}
