package sh.createos.sandbox.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;

/** Guest paths, SSH keys and ids: the rules that decide what input is accepted. */
class InputRulesTest {
    private static final String ED25519 =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    @Test
    void guestPathsMustBeAbsoluteAndClean() {
        assertThat(GuestPaths.require("/etc/os release")).isEqualTo("/etc/os release");
        for (String bad : new String[] {null, "", "etc/x", "/", "/a/../b", "/a/./b", "/a//b", "/a/", "/a\0b"}) {
            assertThatThrownBy(() -> GuestPaths.require(bad)).as(String.valueOf(bad))
                    .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.VALIDATION));
        }
    }

    @Test
    void sshKeysAreCheckedAndDeduplicatedIgnoringComments() {
        assertThat(SshPublicKeys.merge(List.of(ED25519 + " old"), List.of("  " + ED25519 + "   new  ")))
                .containsExactly(ED25519 + " old");
        assertThat(SshPublicKeys.validate(ED25519 + "  a  comment")).isEqualTo(ED25519 + " a  comment");
        for (String bad : List.of("ssh-ed25519", "ssh-foo AAAA", "ssh-ed25519 !!!!",
                "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")) {
            assertThatThrownBy(() -> SshPublicKeys.validate(bad)).as(bad).isInstanceOf(DomainException.class);
        }
    }

    @Test
    void ulidsAreCrockfordBase32AndSortInCreationOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ids.add(Ulid.next());
        }
        assertThat(ids).allMatch(id -> id.matches("[0-9A-HJKMNP-TV-Z]{26}")).doesNotHaveDuplicates();
        assertThat(ids).isSortedAccordingTo(String::compareTo);
        assertThat(SandboxService.vmId("sb_01ABC")).isEqualTo("sb-01abc");
    }
}
