package sh.createos.sandbox.server.shell;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.FutureCallback;

/** A blocking read view of an upgraded connection's endpoint, starting with the bytes the HTTP parser had read. */
final class EndPointInput extends InputStream {
    private final EndPoint endPoint;
    private final ByteBuffer buffer = BufferUtil.allocate(32 * 1024);

    EndPointInput(EndPoint endPoint, ByteBuffer early) {
        this.endPoint = endPoint;
        if (BufferUtil.hasContent(early)) {
            BufferUtil.append(buffer, early);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!buffer.hasRemaining()) {
            BufferUtil.clear(buffer);
            int n = endPoint.fill(buffer);
            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                FutureCallback readable = new FutureCallback();
                endPoint.fillInterested(readable);
                try {
                    readable.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading the shell client");
                } catch (ExecutionException e) {
                    throw new IOException("the shell client's connection failed: " + e.getCause(), e.getCause());
                }
            }
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }
}
