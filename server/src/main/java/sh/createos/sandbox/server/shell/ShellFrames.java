package sh.createos.sandbox.server.shell;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The client → server framing of {@code /shell} (interactive-api.md §2.2): {@code [type u8][length u32 BE]
 * [payload]}; type 0 is input bytes, type 1 a resize (rows u16 BE, cols u16 BE). Unknown types are skipped; a
 * length over {@link #MAX_PAYLOAD} ends the session.
 */
final class ShellFrames {
    static final int DATA = 0x00;
    static final int RESIZE = 0x01;
    static final int MAX_PAYLOAD = 1 << 20;

    interface Sink {
        void data(byte[] bytes, int off, int len) throws IOException;

        void resize(int rows, int cols) throws IOException;
    }

    private ShellFrames() {}

    /** Reads frames until the client's EOF (a clean end between frames); a cut-off frame is an EOFException. */
    static void pump(InputStream from, Sink sink) throws IOException {
        DataInputStream in = new DataInputStream(from);
        byte[] buffer = new byte[64 * 1024];
        while (true) {
            int type = in.read();
            if (type < 0) {
                return;
            }
            long length = in.readInt() & 0xFFFFFFFFL;
            if (length > MAX_PAYLOAD) {
                throw new IOException("shell frame of " + length + " bytes is over the " + MAX_PAYLOAD + " limit");
            }
            int len = (int) length;
            if (type == RESIZE && len == 4) {
                int rows = in.readUnsignedShort();
                int cols = in.readUnsignedShort();
                sink.resize(rows, cols);
            } else if (type == DATA) {
                while (len > 0) {
                    int n = in.read(buffer, 0, Math.min(len, buffer.length));
                    if (n < 0) {
                        throw new EOFException("shell data frame cut off");
                    }
                    sink.data(buffer, 0, n);
                    len -= n;
                }
            } else {
                in.skipNBytes(len);
            }
        }
    }
}
