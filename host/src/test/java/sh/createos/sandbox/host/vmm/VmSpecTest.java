package sh.createos.sandbox.host.vmm;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class VmSpecTest {
    @Test
    void idMustBeSafeAsADirectoryName() {
        assertThatThrownBy(() -> new VmSpec("../etc", "devbox:1", 1, 128, 1024, "h"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad VM id '../etc'");
        assertThatThrownBy(() -> VmSpec.checkId("Upper")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void resourcesMustBeSane() {
        assertThatThrownBy(() -> new VmSpec("a", "devbox:1", 0, 128, 1024, "h")).hasMessageContaining("vcpus");
        assertThatThrownBy(() -> new VmSpec("a", "devbox:1", 1, 16, 1024, "h")).hasMessageContaining("memMib");
        assertThatThrownBy(() -> new VmSpec("a", "devbox:1", 1, 128, 0, "h")).hasMessageContaining("diskMib");
        assertThatThrownBy(() -> new VmSpec("a", "devbox:1", 1, 128, 1024, "bad host")).hasMessageContaining("hostname");
    }
}
