package sh.createos.sandbox.server;

import java.io.IOException;
import java.io.InputStream;

/**
 * For tests that speak raw HTTP/1.1 (Upgrade handshakes): the response head, read byte by byte so that nothing after
 * it (the upgraded connection's first bytes) is consumed.
 */
public final class HttpHead {
    private HttpHead() {}

    /** The status line and headers up to and including the blank line (less if the stream ends first). */
    public static String read(InputStream in) throws IOException {
        StringBuilder seen = new StringBuilder();
        while (seen.indexOf("\r\n\r\n") < 0) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            seen.append((char) b);
        }
        return seen.toString();
    }
}
