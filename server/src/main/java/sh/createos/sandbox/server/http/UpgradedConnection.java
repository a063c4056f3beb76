package sh.createos.sandbox.server.http;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;

/**
 * What an HTTP connection becomes after a 101 when each direction is pumped by a virtual thread of its own
 * (shell, tunnel): Jetty's fill interest is not used, and the connection never idles out — a terminal or a tunnel
 * may sit quiet for as long as both ends keep it open.
 */
public abstract class UpgradedConnection extends AbstractConnection implements Connection.UpgradeTo {
    private final String what;
    private volatile ByteBuffer early;

    protected UpgradedConnection(EndPoint endPoint, Executor executor, String what) {
        super(endPoint, executor);
        this.what = what;
    }

    /** Bytes the client sent right behind its request head, already read by the HTTP parser. */
    @Override
    public final void onUpgradeTo(ByteBuffer buffer) {
        if (BufferUtil.hasContent(buffer)) {
            ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
            copy.put(buffer).flip();
            early = copy;
        }
    }

    /** What the client sent behind its request head (null when nothing). */
    protected final ByteBuffer early() {
        return early;
    }

    /** The connection's name in logs and thread names. */
    protected final String what() {
        return what;
    }

    @Override
    public void onOpen() {
        super.onOpen();
        Thread.ofVirtual().name(kind() + "-in " + what).start(this::fromClient);
        Thread.ofVirtual().name(kind() + "-out " + what).start(this::toClient);
    }

    /** "shell", "tunnel": the prefix of the pump threads' names. */
    protected abstract String kind();

    /** Reads the client (starting with {@link #early()}) until it ends. */
    protected abstract void fromClient();

    /** Writes to the client until the other side ends. */
    protected abstract void toClient();

    @Override
    public final void onFillable() {}

    @Override
    public final boolean onIdleExpired(TimeoutException timeout) {
        return false;
    }
}
