package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Collects an InputStream on a virtual thread so a test can wait for text to appear (terminal sessions). */
final class Transcript {
    private final StringBuilder text = new StringBuilder();
    private IOException failure;
    private boolean ended;

    Transcript(InputStream in) {
        Thread.ofVirtual().name("transcript").start(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
                finish(null);
            } catch (IOException e) {
                finish(e);
            }
        });
    }

    private synchronized void append(String s) {
        text.append(s);
        notifyAll();
    }

    private synchronized void finish(IOException e) {
        ended = true;
        failure = e;
        notifyAll();
    }

    /** Waits until {@code needle} appears after {@code from}; returns the index just past it. */
    synchronized int await(String needle, int from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int at = text.indexOf(needle, from);
            if (at >= 0) {
                return at + needle.length();
            }
            long left = deadline - System.nanoTime();
            if (ended || left <= 0) {
                throw new AssertionError("no \"" + needle + "\" in the output within " + timeout
                        + (ended ? " (stream ended" + (failure == null ? "" : ": " + failure) + ")" : "")
                        + "; output so far:\n" + text);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    synchronized String text() {
        return text.toString();
    }
}
