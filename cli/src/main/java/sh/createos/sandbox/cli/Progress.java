package sh.createos.sandbox.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A progress bar (bytes of a known total) or a spinner on stderr, redrawn in place at most ten times a second and
 * erased when done; nothing at all when stderr is not a terminal, so scripts and logs never see it.
 */
public final class Progress implements AutoCloseable {
    private static final String SPIN = "|/-\\";
    private final String label;
    private final long total;
    private final boolean on;
    private final PrintStream err = System.err;
    private long done;
    private long lastDraw;
    private int frame;

    /** {@code total} < 0: a spinner; 0: nothing (too small to show). */
    public Progress(String label, long total) {
        this.label = label;
        this.total = total;
        this.on = total != 0 && stderrIsTerminal();
    }

    public static boolean stderrIsTerminal() {
        if (System.getenv("CREATEOS_NO_PROGRESS") != null) {
            return false;
        }
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    synchronized void add(long n) {
        done += n;
        draw(false);
    }

    synchronized void tick() {
        draw(false);
    }

    private void draw(boolean force) {
        if (!on) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        String text;
        if (total > 0) {
            int pct = (int) Math.min(100, done * 100 / total);
            int width = 30;
            int fill = pct * width / 100;
            text = String.format("%s [%s%s] %3d%% %s/%s", label, "#".repeat(fill), " ".repeat(width - fill), pct,
                    human(done), human(total));
        } else {
            text = label + " " + SPIN.charAt(frame++ % SPIN.length()) + (done > 0 ? " " + human(done) : "");
        }
        err.print("\r\033[2K" + text);
        err.flush();
    }

    /** Wraps a stream so that what is read through it advances the bar. */
    public InputStream wrap(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    add(1);
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    add(n);
                }
                return n;
            }
        };
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }

    @Override
    public synchronized void close() {
        if (on) {
            err.print("\r\033[2K");
            err.flush();
        }
    }
}
