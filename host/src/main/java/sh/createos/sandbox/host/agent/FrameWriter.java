package sh.createos.sandbox.host.agent;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;

/** Encodes frames onto the agent's byte stream; one lock serializes writers so frames never interleave. */
final class FrameWriter {
    private final ReentrantLock lock = new ReentrantLock();
    private final OutputStream out;
    private final byte[] header = new byte[Frame.HEADER_BYTES];
    private volatile long writingSince;

    FrameWriter(OutputStream out) {
        this.out = new BufferedOutputStream(out, Frame.HEADER_BYTES + Frame.MAX_PAYLOAD);
    }

    /** Callers that must make several writes atomic (allocate a stream id, then OPEN it) hold this lock. */
    ReentrantLock lock() {
        return lock;
    }

    void write(int stream, int type, int channel, byte[] payload) throws IOException {
        write(stream, type, channel, payload, 0, payload.length);
    }

    void write(int stream, int type, int channel, byte[] payload, int offset, int length) throws IOException {
        if (length > Frame.MAX_PAYLOAD) {
            throw new IllegalArgumentException(Frame.typeName(type) + " payload of " + length + " bytes exceeds " + Frame.MAX_PAYLOAD);
        }
        lock.lock();
        writingSince = System.nanoTime();
        try {
            putInt(header, 0, stream);
            header[4] = (byte) type;
            header[5] = (byte) channel;
            putInt(header, 6, length);
            out.write(header);
            out.write(payload, offset, length);
            out.flush();
        } finally {
            writingSince = 0;
            lock.unlock();
        }
    }

    /** How long the write in progress has been blocked (the other end reads nothing), 0 when none is. */
    long blockedNanos() {
        long since = writingSince;
        return since == 0 ? 0 : System.nanoTime() - since;
    }

    static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
