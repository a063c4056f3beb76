package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * {@code direct-tcpip} ({@code ssh -L}, {@code ssh -W}): the connection is made by the agent's {@code dial} inside
 * the guest, so the target ({@code localhost:3000}, or any host the guest can reach) is seen from the guest and
 * whatever rules restrict the agent's dial apply here too. Bytes from the client are handed to a writer thread
 * and the SSH window is only credited once they reached the dial, so a slow guest slows the client down.
 */
final class DirectTcpipChannel extends AbstractServerChannel {
    private static final Logger log = LoggerFactory.getLogger(DirectTcpipChannel.class);
    private static final byte[] EOF = new byte[0];

    static ChannelFactory factory(GatewaySessions sessions, ChannelQuota quota) {
        return new ChannelFactory() {
            @Override
            public String getName() {
                return "direct-tcpip";
            }

            @Override
            public Channel createChannel(Session session) {
                return new DirectTcpipChannel(sessions, quota);
            }
        };
    }

    private final GatewaySessions sessions;
    private final ChannelQuota quota;
    private final BlockingQueue<byte[]> toGuest = new LinkedBlockingQueue<>(); // bounded in bytes by the SSH window
    private volatile DialConnection dial;

    private DirectTcpipChannel(GatewaySessions sessions, ChannelQuota quota) {
        super("direct-tcpip", java.util.List.of(), null);
        this.sessions = sessions;
        this.quota = quota;
        addCloseFutureListener(closed -> {
            DialConnection connection = dial;
            if (connection != null) {
                connection.close();
            }
        });
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        String host = buffer.getString();
        int port = buffer.getInt();
        DefaultOpenFuture opened = new DefaultOpenFuture(this, futureLock);
        // Resuming a paused sandbox or dialing can take a while: not on MINA's I/O thread.
        Thread.ofVirtual().name("ssh-dial-" + port).start(() -> {
            SshChannelOpenException overQuota = quota.admit(this);
            if (overQuota != null) {
                signalChannelOpenFailure(overQuota);
                opened.setException(overQuota);
                close(true);
                return;
            }
            try {
                RunningSandbox running = sessions.attach((ServerSession) getSession());
                String target = "localhost".equals(host) || host.isEmpty() ? "127.0.0.1" : host;
                dial = running.agent().dial(target, port);
            } catch (SshRefusal refusal) {
                refuse(opened, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, refusal.getMessage());
                return;
            } catch (AgentException e) {
                refuse(opened, SshConstants.SSH_OPEN_CONNECT_FAILED,
                        "the guest could not connect to " + host + ":" + port + ": " + e.getMessage());
                return;
            } catch (IOException | RuntimeException e) {
                refuse(opened, SshConstants.SSH_OPEN_CONNECT_FAILED,
                        "connecting to " + host + ":" + port + " in the guest: " + e.getMessage());
                return;
            }
            signalChannelOpenSuccess(); // MINA sends the confirmation on this signal
            opened.setOpened();
            Thread.ofVirtual().name("ssh-fwd-out").start(this::guestToClient);
            Thread.ofVirtual().name("ssh-fwd-in").start(this::clientToGuest);
        });
        return opened;
    }

    private void refuse(DefaultOpenFuture opened, int reason, String message) {
        SshChannelOpenException e = new SshChannelOpenException(getChannelId(), reason, message);
        signalChannelOpenFailure(e);
        opened.setException(e);
        close(true);
    }

    private void guestToClient() {
        DialConnection connection = dial;
        try (InputStream in = connection.input();
             OutputStream out = new ChannelOutputStream(this, getRemoteWindow(), log,
                     SshConstants.SSH_MSG_CHANNEL_DATA, true)) {
            byte[] buffer = new byte[32 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            log.trace("forwarded connection, guest side: {}", e.toString());
        } finally {
            close(false);
        }
    }

    private void clientToGuest() {
        DialConnection connection = dial;
        try (OutputStream out = connection.output()) {
            while (true) {
                byte[] chunk = toGuest.take();
                if (chunk == EOF) {
                    break;
                }
                out.write(chunk);
                out.flush();
                getLocalWindow().release(chunk.length);
            }
        } catch (IOException e) {
            log.trace("forwarded connection, client side: {}", e.toString());
            close(false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        byte[] chunk = new byte[(int) len];
        System.arraycopy(data, off, chunk, 0, (int) len);
        if (!toGuest.offer(chunk)) {
            throw new IOException("forwarding queue overflow beyond the SSH window");
        }
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
        throw new UnsupportedOperationException("direct-tcpip carries no extended data");
    }

    @Override
    public void handleEof() throws IOException {
        super.handleEof();
        toGuest.offer(EOF);
    }
}
