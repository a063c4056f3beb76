package sh.createos.sandbox.server.ssh;

import org.apache.sshd.common.AttributeRepository.AttributeKey;
import sh.createos.sandbox.server.store.User;

/**
 * Who an authenticated SSH connection is: the sandbox its key opened, that sandbox's owner, and the guest user it
 * runs as (null: the image's default user). Kept as an attribute of the MINA session.
 */
public record SshLogin(User owner, String sandboxId, String guestUser) {
    static final AttributeKey<SshLogin> KEY = new AttributeKey<>();
}
