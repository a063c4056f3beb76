package sh.createos.sandbox.server.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxTest {
    @TempDir
    Path dir;

    @Test
    void sealedValuesOpenOnlyWithTheirKeyAndAssociatedData() throws Exception {
        SecretBox box = SecretBox.open(dir, Map.of());
        String sealed = box.seal("s3cret", "sandbox:sb_1:envs");
        assertThat(sealed).startsWith("v1:").doesNotContain("s3cret");
        assertThat(box.seal("s3cret", "sandbox:sb_1:envs")).isNotEqualTo(sealed); // fresh IV each time
        assertThat(box.open(sealed, "sandbox:sb_1:envs")).isEqualTo("s3cret");
        assertThatThrownBy(() -> box.open(sealed, "sandbox:sb_2:envs")).isInstanceOf(SecretBox.SecretException.class);
        assertThatThrownBy(() -> SecretBox.of(new byte[32]).open(sealed, "sandbox:sb_1:envs"))
                .isInstanceOf(SecretBox.SecretException.class);
        assertThatThrownBy(() -> box.open("plain", "x")).isInstanceOf(SecretBox.SecretException.class);
    }

    @Test
    void theKeyFileIsCreatedOnceReadableByItsOwnerOnly() throws Exception {
        String sealed = SecretBox.open(dir, Map.of()).seal("v", "a");
        Path file = dir.resolve("secret.key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(SecretBox.open(dir, Map.of()).open(sealed, "a")).isEqualTo("v");
    }

    @Test
    void theEnvironmentsKeyWinsAndABadOneIsRefused() throws Exception {
        byte[] key = new byte[32];
        key[0] = 7;
        String b64 = Base64.getEncoder().encodeToString(key);
        String sealed = SecretBox.open(dir, Map.of(SecretBox.ENV, b64)).seal("v", "a");
        assertThat(SecretBox.of(key).open(sealed, "a")).isEqualTo("v");
        assertThat(Files.exists(dir.resolve("secret.key"))).isFalse();
        assertThatThrownBy(() -> SecretBox.open(dir, Map.of(SecretBox.ENV, "c2hvcnQ=")))
                .hasMessageContaining("32 bytes");
    }
}
