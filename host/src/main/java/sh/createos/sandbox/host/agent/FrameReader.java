package sh.createos.sandbox.host.agent;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** Decodes frames from the agent's byte stream. Used by one thread at a time. */
final class FrameReader {
    private final DataInputStream in;

    FrameReader(InputStream in) {
        this.in = new DataInputStream(new BufferedInputStream(in, Frame.HEADER_BYTES + Frame.MAX_PAYLOAD));
    }

    /** The next frame, or null when the stream ended cleanly between frames. */
    Frame read() throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        try {
            int stream = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int channel = in.readUnsignedByte();
            long length = Integer.toUnsignedLong(in.readInt());
            if (length > Frame.MAX_PAYLOAD) {
                throw new ProtocolException("frame " + Frame.typeName(type) + " on stream " + Integer.toUnsignedString(stream)
                        + " announces " + length + " bytes, more than the limit of " + Frame.MAX_PAYLOAD);
            }
            byte[] payload = new byte[(int) length];
            in.readFully(payload);
            return new Frame(stream, type, channel, payload);
        } catch (EOFException e) {
            throw new EOFException("connection ended in the middle of a frame");
        }
    }
}
