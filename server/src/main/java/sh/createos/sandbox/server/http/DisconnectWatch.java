package sh.createos.sandbox.server.http;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices that the client of a request which sends nothing while it waits (a buffered exec) has gone. Jetty reads
 * nothing from a connection while its request is handled, so a closed connection goes unseen until the answer is
 * written, which for a long command is never soon. The watch asks the endpoint to report readability: a client that
 * waits for its answer sends nothing, so readability is its EOF or reset — or, rarely, a pipelined next request, of
 * which the watch then has read one byte: that connection is closed after the answer ({@code Connection: close}).
 * HTTP/1 only (an HTTP/2 connection carries other streams); the request body must have been read.
 */
public final class DisconnectWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DisconnectWatch.class);

    private final EndPoint endPoint;
    private final Response response;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private volatile boolean gone;

    private DisconnectWatch(EndPoint endPoint, Response response) {
        this.endPoint = endPoint;
        this.response = response;
    }

    static DisconnectWatch of(Request request, Response response) {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        DisconnectWatch watch = new DisconnectWatch(endPoint, response);
        HttpVersion version = request.getConnectionMetaData().getHttpVersion();
        if ((version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0) && endPoint instanceof AbstractEndPoint) {
            watch.arm();
        }
        return watch;
    }

    /** Runs {@code listener} (on a virtual thread) when the client goes, or now if it has gone already. */
    public void onGone(Runnable listener) {
        listeners.add(listener);
        if (gone && listeners.remove(listener)) {
            Thread.ofVirtual().name("client-gone").start(listener);
        }
    }

    public boolean isGone() {
        return gone;
    }

    private void arm() {
        if (!closed && !endPoint.tryFillInterested(readable)) {
            log.debug("{}: the connection is being read already; not watching it", endPoint);
        }
    }

    private final Callback readable = new Callback() {
        @Override
        public void succeeded() {
            if (closed) {
                return;
            }
            try {
                ByteBuffer one = BufferUtil.allocate(1);
                int n = endPoint.fill(one);
                if (n < 0) {
                    clientGone("closed the connection");
                } else if (n > 0) {
                    // A pipelined request: its first byte is ours now, so this connection must not serve it.
                    response.getHeaders().put(HttpHeader.CONNECTION, "close");
                } else {
                    arm();
                }
            } catch (java.io.IOException | RuntimeException e) {
                clientGone("failed: " + e.getMessage());
            }
        }

        @Override
        public void failed(Throwable failure) {
            if (!closed) {
                clientGone("failed: " + failure);
            }
        }
    };

    private void clientGone(String how) {
        gone = true;
        log.info("the client of a waiting request {}", how);
        for (Runnable listener : listeners) {
            if (listeners.remove(listener)) {
                Thread.ofVirtual().name("client-gone").start(listener);
            }
        }
    }

    /** Stops watching (before the answer is written): the connection is Jetty's to read again. */
    @Override
    public void close() {
        closed = true;
        if (endPoint instanceof AbstractEndPoint abstractEndPoint && endPoint.isFillInterested()) {
            abstractEndPoint.getFillInterest().onFail(new CancellationException("the request's watch ended"));
        }
    }
}
