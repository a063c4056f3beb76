package sh.createos.sandbox.host.agent;

/** One item of a managed process's output stream ({@link ProcessOutput#next()}). */
public sealed interface ProcessOutputFrame {
    /** One output chunk; {@code stream} is "stdout", "stderr" or "pty"; sequence numbers grow by one per chunk. */
    record Chunk(long seq, String stream, byte[] data) implements ProcessOutputFrame {}

    /** Nothing happened for 5 s. */
    record Heartbeat() implements ProcessOutputFrame {}

    /** The last frame: the leader exited and its output is complete. {@code signal} is null for a normal exit. */
    record Exit(int code, String signal) implements ProcessOutputFrame {}

    /** The last frame: chunks after the requested one were evicted; the oldest retained is {@code oldestSeq}. */
    record Expired(long oldestSeq) implements ProcessOutputFrame {}
}
