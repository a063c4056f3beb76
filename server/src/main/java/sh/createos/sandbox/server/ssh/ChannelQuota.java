package sh.createos.sandbox.server.ssh;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;

/**
 * Caps the channels (shells, commands, SFTP, forwarded connections) one SSH connection may have open at once; a
 * channel beyond it is refused with {@code SSH_OPEN_RESOURCE_SHORTAGE} and the connection stays up. Ours rather than
 * MINA's {@code max-sshd-channels}, which lets one channel past its number and then fails the open with an
 * IllegalStateException instead of a refusal.
 */
final class ChannelQuota {
    private static final AttributeKey<AtomicInteger> OPEN = new AttributeKey<>();
    private final int max;

    ChannelQuota(int max) {
        this.max = max;
    }

    /** Counts the channel against its connection until it closes; null when admitted, else the refusal. */
    SshChannelOpenException admit(Channel channel) {
        AtomicInteger open = channel.getSession().computeAttributeIfAbsent(OPEN, k -> new AtomicInteger());
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return new SshChannelOpenException(channel.getChannelId(), SshConstants.SSH_OPEN_RESOURCE_SHORTAGE,
                    "this SSH connection already has " + max + " channels open, the most it may have at once");
        }
        channel.addCloseFutureListener(closed -> open.decrementAndGet());
        return null;
    }
}
