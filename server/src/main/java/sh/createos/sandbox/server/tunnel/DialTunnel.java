package sh.createos.sandbox.server.tunnel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.server.http.UpgradedConnection;

/**
 * What an HTTP connection becomes after a 101: raw bytes between the client's socket and a guest port the agent
 * dialed, one virtual thread per direction. A half-close travels through (client FIN → EOF to the guest socket,
 * guest EOF → FIN to the client); the tunnel closes once both directions ended or either failed.
 */
public final class DialTunnel extends UpgradedConnection {
    private static final Logger log = LoggerFactory.getLogger(DialTunnel.class);
    /** One agent DATA frame's worth, so a read maps to a single frame. */
    private static final int CHUNK = 32_758;

    private final DialConnection dial;
    private final Runnable onTraffic;
    private final AtomicInteger openDirections = new AtomicInteger(2);
    private final byte[] fromGuestEarly;

    /**
     * @param fromGuestEarly bytes the guest already sent after its own 101 head (ingress), to pass on first
     * @param onTraffic called whenever bytes move (activity for idle auto-pause)
     */
    public DialTunnel(EndPoint endPoint, Executor executor, DialConnection dial, byte[] fromGuestEarly,
            Runnable onTraffic, String what) {
        super(endPoint, executor, what);
        this.dial = dial;
        this.fromGuestEarly = fromGuestEarly;
        this.onTraffic = onTraffic;
    }

    @Override
    protected String kind() {
        return "tunnel";
    }

    @Override
    protected void fromClient() {
        OutputStream toGuest = dial.output();
        try {
            ByteBuffer early = early();
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

    @Override
    protected void toClient() {
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
            log.debug("tunnel {} ended ({}): {}", what(), direction, e.toString());
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
