package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * A running process in the guest. Read stdout and stderr concurrently (or close the one you do not want): both
 * share the stream's window, and the agent reports the exit only once all output has been consumed.
 */
public interface ExecSession extends AutoCloseable {
    int pid();

    InputStream stdout();

    /** Empty with a PTY: the terminal carries everything on stdout. */
    InputStream stderr();

    /** Closing it sends EOF (with a PTY: the terminal's EOF character); writes fail unless the request asked for stdin. */
    OutputStream stdin();

    void resize(int rows, int cols) throws IOException;

    /** Signals the process group (with a PTY: the terminal's foreground process group); "INT", "TERM", … */
    void signal(String name) throws IOException;

    /** SIGKILL to the whole process tree, including descendants that called setsid. */
    void kill() throws IOException;

    ExitStatus waitFor() throws InterruptedException, IOException;

    CompletableFuture<ExitStatus> onExit();

    /** Kills the process tree if it is still running. */
    @Override
    void close();
}
