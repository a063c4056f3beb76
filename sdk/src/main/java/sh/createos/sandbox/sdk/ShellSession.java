package sh.createos.sandbox.sdk;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An interactive PTY in the guest over the keyless {@code /shell} Upgrade. Write keystrokes to {@link #input()}
 * (framed for the wire here), read the terminal's raw output from {@link #output()}; it ends when the shell exits
 * (output at EOF). Closing hangs the session up.
 */
public final class ShellSession implements AutoCloseable {
    private static final int MAX_FRAME = 4096;
    private final Socket socket;
    private final DataOutputStream wire;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final InputStream output;
    private final OutputStream input;

    ShellSession(Socket socket) throws IOException {
        this.socket = socket;
        this.wire = new DataOutputStream(socket.getOutputStream());
        this.output = socket.getInputStream();
        this.input = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                while (len > 0) {
                    int n = Math.min(len, MAX_FRAME);
                    frame(0, b, off, n);
                    off += n;
                    len -= n;
                }
            }

            @Override
            public void close() {
                ShellSession.this.close();
            }
        };
    }

    /** Keystrokes and pastes for the terminal ({@code \r} is Enter). */
    public OutputStream input() {
        return input;
    }

    /** The terminal's output (stdout and stderr merged by the PTY), raw bytes. */
    public InputStream output() {
        return output;
    }

    /** Sets the terminal size. */
    public void resize(int rows, int cols) {
        if (rows <= 0 || cols <= 0 || rows > 0xFFFF || cols > 0xFFFF) {
            throw new IllegalArgumentException("rows and cols must be 1..65535, got " + rows + "x" + cols);
        }
        byte[] size = {(byte) (rows >> 8), (byte) rows, (byte) (cols >> 8), (byte) cols};
        try {
            frame(1, size, 0, 4);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** [type:1][length:uint32 BE][payload]; one writer at a time so frames never interleave. */
    private void frame(int type, byte[] b, int off, int len) throws IOException {
        writeLock.lock();
        try {
            wire.writeByte(type);
            wire.writeInt(len);
            wire.write(b, off, len);
            wire.flush();
        } finally {
            writeLock.unlock();
        }
    }

    /** Hangs up (the server sends SIGHUP to the session). */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
