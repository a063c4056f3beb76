package sh.createos.sandbox.host.agent;

/** One frame of the agent protocol: a 10-byte header (stream, type, channel, length) and its payload. */
record Frame(int stream, int type, int channel, byte[] payload) {
    static final int HEADER_BYTES = 10;
    static final int MAX_PAYLOAD = 65_536;
    /** Senders split DATA into frames of at most this size, header included, so that streams interleave fairly. */
    static final int MAX_FRAME = 32_768;
    static final int MAX_DATA = MAX_FRAME - HEADER_BYTES;
    /** The initial send window of each stream in each direction. */
    static final int INITIAL_WINDOW = 262_144;

    static final int HELLO = 1;
    static final int OPEN = 2;
    static final int EVENT = 3;
    static final int DATA = 4;
    static final int EOF = 5;
    static final int WINDOW = 6;
    static final int CLOSE = 7;

    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;

    static String typeName(int type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case OPEN -> "OPEN";
            case EVENT -> "EVENT";
            case DATA -> "DATA";
            case EOF -> "EOF";
            case WINDOW -> "WINDOW";
            case CLOSE -> "CLOSE";
            default -> "type " + type;
        };
    }

    @Override
    public String toString() {
        return typeName(type) + "(stream " + stream + ", channel " + channel + ", " + payload.length + " bytes)";
    }
}
