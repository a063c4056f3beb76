package sh.createos.sandbox.server.ssh;

import java.security.PublicKey;
import java.util.List;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.sandbox.SandboxService;
import sh.createos.sandbox.server.sandbox.SandboxService.Owned;

/**
 * Public-key authentication against the sandbox's {@code ssh_pubkeys}, read from the store on every attempt (keys
 * added through the API work at once). A login by id opens that sandbox when it lists the key; a login by name
 * opens the one live sandbox of that name (names are per user) that lists the key, and nothing when several do.
 * Every refusal looks the same to the client: an unknown, destroyed or foreign sandbox and a wrong key are all
 * "Permission denied (publickey)".
 */
final class SandboxKeyAuthenticator implements PublickeyAuthenticator {
    private static final Logger log = LoggerFactory.getLogger(SandboxKeyAuthenticator.class);
    private final SandboxService sandboxes;

    SandboxKeyAuthenticator(SandboxService sandboxes) {
        this.sandboxes = sandboxes;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        LoginName login = LoginName.parse(username);
        if (login == null) {
            return false;
        }
        String offered;
        try {
            offered = identity(PublicKeyEntry.toString(key));
        } catch (IllegalArgumentException e) {
            return false;
        }
        List<Owned> opened = sandboxes.liveByIdOrName(login.sandbox()).stream()
                .filter(o -> o.sandbox().sshPubkeys().stream().anyMatch(k -> identity(k).equals(offered)))
                .toList();
        if (opened.size() != 1) {
            if (opened.size() > 1) {
                log.info("ssh login '{}' is ambiguous: the key opens {} sandboxes of that name; use the id", username,
                        opened.size());
            }
            return false;
        }
        Owned target = opened.getFirst();
        session.setAttribute(SshLogin.KEY, new SshLogin(target.user(), target.sandbox().id(), login.guestUser()));
        return true;
    }

    /** Type and base64 blob, without the comment. */
    private static String identity(String openSshKey) {
        String[] fields = openSshKey.strip().split("\\s+", 3);
        return fields.length < 2 ? openSshKey : fields[0] + " " + fields[1];
    }
}
