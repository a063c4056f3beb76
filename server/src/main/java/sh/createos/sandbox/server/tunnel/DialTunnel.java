package sh.createos.sandbox.server.tunnel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.DialConnection;

/**
 * What an HTTP connection becomes after a 101: raw bytes between the client's socket and a guest port the agent
 * dialed, one virtual thread per direction. A half-close travels through (client FIN → EOF to the guest socket,
 * guest EOF → FIN to the client); the tunnel closes once both directions ended or either failed.
 */
public final class DialTunnel extends AbstractConnection implements Connection.UpgradeTo {
    private static final Logger log = LoggerFactory.getLogger(DialTunnel.class);
    /** One agent DATA frame's worth, so a read maps to a single frame. */
    private static final int CHUNK = 32_758;

    private final DialConnection dial;
    private final Runnable onTraffic;
    private final String what;
    private final AtomicInteger openDirections = new AtomicInteger(2);
    private volatile ByteBuffer fromClientEarly;
    private final byte[] fromGuestEarly;

    /**
     * @param fromGuestEarly bytes the guest already sent after its own 101 head (ingress), to pass on first
     * @param onTraffic called whenever bytes move (activity for idle auto-pause)
     */
    public DialTunnel(EndPoint endPoint, Executor executor, DialConnection dial, byte[] fromGuestEarly,
            Runnable onTraffic, String what) {
        super(endPoint, executor);
        this.dial = dial;
        this.fromGuestEarly = fromGuestEarly;
        this.onTraffic = onTraffic;
        this.what = what;
    }

    /** Bytes the client sent right behind its request head, already read by the HTTP parser. */
    @Override
    public void onUpgradeTo(ByteBuffer buffer) {
        if (BufferUtil.hasContent(buffer)) {
            ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
            copy.put(buffer).flip();
            fromClientEarly = copy;
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        Thread.ofVirtual().name("tunnel-in " + what).start(this::clientToGuest);
        Thread.ofVirtual().name("tunnel-out " + what).start(this::guestToClient);
    }

    /** Reading is driven by {@link #clientToGuest}, not by Jetty's fill interest. */
    @Override
    public void onFillable() {}

    /** A tunnel may sit idle as long as both ends keep it open (an SSH session, a quiet WebSocket). */
    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        return false;
    }

    private void clientToGuest() {
        OutputStream toGuest = dial.output();
        try {
            ByteBuffer early = fromClientEarly;
            if (early != null) {
                toGuest.write(early.array(), early.position(), early.remaining());
            }
            ByteBuffer buffer = BufferUtil.allocate(CHUNK);
            while (true) {
                BufferUtil.clear(buffer);
                int n = getEndPoint().fill(buffer);
                if (n < 0) {
                    toGuest.close(); // half-close: the guest socket sees EOF, its answer may still come
                    break;
                }
                if (n == 0) {
                    FutureCallback readable = new FutureCallback();
                    getEndPoint().fillInterested(readable);
                    readable.get();
                    continue;
                }
                toGuest.write(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
                onTraffic.run();
            }
            directionEnded();
        } catch (IOException | ExecutionException | InterruptedException | RuntimeException e) {
            fail("client to guest", e);
        }
    }

    private void guestToClient() {
        InputStream fromGuest = dial.input();
        try {
            if (fromGuestEarly.length > 0) {
                write(ByteBuffer.wrap(fromGuestEarly));
            }
            byte[] bytes = new byte[CHUNK];
            int n;
            while ((n = fromGuest.read(bytes)) >= 0) {
                if (n > 0) {
                    write(ByteBuffer.wrap(bytes, 0, n));
                    onTraffic.run();
                }
            }
            getEndPoint().shutdownOutput();
            directionEnded();
        } catch (IOException | ExecutionException | InterruptedException | RuntimeException e) {
            fail("guest to client", e);
        }
    }

    private void write(ByteBuffer bytes) throws ExecutionException, InterruptedException {
        FutureCallback written = new FutureCallback();
        getEndPoint().write(written, bytes);
        written.get();
    }

    private void directionEnded() {
        if (openDirections.decrementAndGet() == 0) {
            closeBoth();
        }
    }

    private void fail(String direction, Exception e) {
        if (getEndPoint().isOpen()) {
            log.debug("tunnel {} ended ({}): {}", what, direction, e.toString());
        }
        closeBoth();
    }

    private void closeBoth() {
        dial.close();
        getEndPoint().close();
    }

    @Override
    public void onClose(Throwable cause) {
        dial.close();
        super.onClose(cause);
    }
}
