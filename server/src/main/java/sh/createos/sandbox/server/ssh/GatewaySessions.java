package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.lifecycle.ActivityTracker;
import sh.createos.sandbox.server.sandbox.SandboxService.RunningSandbox;

/**
 * The authenticated SSH connections per sandbox: caps how many one sandbox may have (a connection beyond the cap
 * stays up, but its channels are refused until a place frees), keeps the sandbox busy for
 * idle auto-pause while one is attached (has reached the running guest), and ends the attached ones with a
 * message once their sandbox stops running (paused or destroyed), checking once a second.
 */
final class GatewaySessions implements SessionListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GatewaySessions.class);
    private static final long WATCH_MILLIS = 1000;

    private final GuestAccess access;
    private final int maxPerSandbox;
    private final Map<String, Set<ServerSession>> bySandbox = new ConcurrentHashMap<>();
    private final Map<ServerSession, ActivityTracker.Busy> attached = new ConcurrentHashMap<>();
    private final Thread watcher;
    private volatile boolean closed;

    GatewaySessions(GuestAccess access, int maxPerSandbox) {
        this.access = access;
        this.maxPerSandbox = maxPerSandbox;
        this.watcher = Thread.ofVirtual().name("ssh-session-watch").start(this::watch);
    }

    /**
     * A login takes one of its sandbox's places if one is free. One that finds none is not disconnected (a
     * disconnect sent from inside the Authenticated event races MINA's switch to delayed compression and reaches
     * OpenSSH as a corrupt packet); instead it tries again at each channel, and its channels are refused with the
     * reason until a place frees.
     */
    @Override
    public void sessionEvent(Session session, Event event) {
        if (event == Event.Authenticated && session instanceof ServerSession server
                && server.getAttribute(SshLogin.KEY) != null) {
            admit(server, server.getAttribute(SshLogin.KEY));
        }
    }

    private boolean admit(ServerSession session, SshLogin login) {
        Set<ServerSession> sessions = bySandbox.computeIfAbsent(login.sandboxId(), id -> ConcurrentHashMap.newKeySet());
        synchronized (sessions) {
            if (sessions.contains(session)) {
                return true;
            }
            if (sessions.size() >= maxPerSandbox || !session.isOpen()) {
                return false;
            }
            sessions.add(session);
            return true;
        }
    }

    @Override
    public void sessionClosed(Session session) {
        SshLogin login = session.getAttribute(SshLogin.KEY);
        if (login != null) {
            Set<ServerSession> sessions = bySandbox.get(login.sandboxId());
            if (sessions != null) {
                synchronized (sessions) {
                    sessions.remove(session);
                }
            }
        }
        ActivityTracker.Busy busy = attached.remove(session);
        if (busy != null) {
            busy.close();
        }
    }

    /** The running guest for a channel of {@code session}; from then on the session keeps the sandbox awake. */
    RunningSandbox attach(ServerSession session) throws SshRefusal {
        SshLogin login = session.getAttribute(SshLogin.KEY);
        if (login == null) {
            throw new SshRefusal("not logged in");
        }
        if (!admit(session, login)) {
            throw new SshRefusal("sandbox " + login.sandboxId() + " already has " + maxPerSandbox
                    + " SSH connections, the most it may have at once");
        }
        RunningSandbox running = access.running(login);
        attached.computeIfAbsent(session, s -> access.activity().busy(login.sandboxId()));
        if (!session.isOpen()) {
            sessionClosed(session); // closed while we resumed: do not leave the sandbox busy
        }
        return running;
    }

    private void watch() {
        while (!closed) {
            try {
                Thread.sleep(WATCH_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            for (ServerSession session : attached.keySet()) {
                SshLogin login = session.getAttribute(SshLogin.KEY);
                try {
                    if (login != null && !access.isRunning(login)) {
                        disconnect(session, access.describe(login) + "; the SSH session ends");
                    }
                } catch (RuntimeException e) {
                    log.warn("checking the sandbox of an SSH session: {}", e.toString());
                }
            }
        }
    }

    private static void disconnect(ServerSession session, String message) {
        try {
            session.disconnect(SshConstants.SSH2_DISCONNECT_BY_APPLICATION, message);
        } catch (IOException e) {
            log.debug("disconnecting an SSH session: {}", e.toString());
            session.close(true);
        }
    }

    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
        attached.values().forEach(ActivityTracker.Busy::close);
        attached.clear();
    }
}
