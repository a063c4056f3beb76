package sh.createos.sandbox.sdk;

/** One frame of {@link Processes#attach}: output with its sequence number, the exit, an error, a keep-alive. */
public sealed interface ProcessEvent {
    /**
     * A chunk of output.
     *
     * @param seq its sequence number (one counter per process, shared by the streams)
     * @param stream {@code stdout}, {@code stderr} or {@code pty}
     * @param data the raw bytes
     */
    record Data(long seq, String stream, byte[] data) implements ProcessEvent {}

    /**
     * The process ended; the last frame.
     *
     * @param exitCode the exit status, or null when a signal killed it
     * @param signal the signal, or null
     */
    record Exit(Integer exitCode, String signal) implements ProcessEvent {}

    /**
     * The stream failed, e.g. {@code output offset expired}; the last frame.
     *
     * @param message what went wrong
     * @param oldestAvailableSeq the oldest frame still retained, or null
     */
    record Error(String message, Long oldestAvailableSeq) implements ProcessEvent {}

    /** A keep-alive while the process is quiet. */
    record Heartbeat() implements ProcessEvent {}
}
