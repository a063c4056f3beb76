package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.PtyMode;
import org.apache.sshd.common.channel.RequestHandler.Result;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.ChannelSession;

/**
 * A session channel that remembers whether the client asked for a PTY and accepts from {@code env} requests only the
 * terminal and locale variables ({@code TERM}, {@code LANG}, {@code LC_*}), as OpenSSH's default AcceptEnv does; the
 * rest (PATH, LD_PRELOAD, …) is refused. It counts against its connection's {@link ChannelQuota}.
 */
final class GuestChannelSession extends ChannelSession {
    static ChannelFactory factory(ChannelQuota quota) {
        return new ChannelFactory() {
            @Override
            public String getName() {
                return "session";
            }

            @Override
            public Channel createChannel(Session session) {
                return new GuestChannelSession(quota);
            }
        };
    }

    private static final Set<String> ACCEPTED_ENV = Set.of("TERM", "LANG", "LANGUAGE", "COLORTERM");

    private final ChannelQuota quota;
    private volatile boolean pty;

    private GuestChannelSession(ChannelQuota quota) {
        this.quota = quota;
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        SshChannelOpenException refused = quota.admit(this);
        if (refused == null) {
            return super.doInit(buffer);
        }
        DefaultOpenFuture future = new DefaultOpenFuture(this, futureLock);
        signalChannelOpenFailure(refused);
        future.setException(refused);
        return future;
    }

    static boolean accepted(String name) {
        return ACCEPTED_ENV.contains(name) || name.startsWith("LC_");
    }

    boolean hasPty() {
        return pty;
    }

    @Override
    protected Result handlePtyReqParsed(String term, int cols, int rows, int width, int height,
            Map<PtyMode, Integer> modes) throws IOException {
        pty = true;
        return super.handlePtyReqParsed(term, cols, rows, width, height, modes);
    }

    @Override
    protected Result handleEnvParsed(String name, String value) throws IOException {
        return accepted(name) ? super.handleEnvParsed(name, value) : Result.ReplyFailure;
    }
}
