package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** An {@link ExecSession} on one agent stream; a virtual thread waits for the exit event. */
final class AgentExecSession implements ExecSession {
    private final AgentStream stream;
    private final int pid;
    private final boolean hasStdin;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();

    AgentExecSession(AgentStream stream, int pid, boolean hasStdin) {
        this.stream = stream;
        this.pid = pid;
        this.hasStdin = hasStdin;
        Thread.ofVirtual().name("agent-exec " + pid).start(this::awaitExit);
    }

    private void awaitExit() {
        try {
            while (!exit.isDone()) {
                Messages.Event event = stream.nextEvent();
                if (event.is("exit")) {
                    Messages.Exit e = event.as(Messages.Exit.class);
                    exit.complete(new ExitStatus(e.code(), e.signal()));
                } else if (event.is("error")) {
                    exit.completeExceptionally(stream.errorOf(event));
                }
            }
        } catch (IOException e) {
            exit.completeExceptionally(e);
        }
    }

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public InputStream stdout() {
        return stream.input(Frame.STDOUT);
    }

    @Override
    public InputStream stderr() {
        return stream.input(Frame.STDERR);
    }

    @Override
    public OutputStream stdin() {
        return hasStdin ? stream.output() : NO_STDIN;
    }

    private static final OutputStream NO_STDIN = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("the process was started without stdin: use ExecRequest.withStdin(true)");
        }
    };

    @Override
    public void resize(int rows, int cols) throws IOException {
        PtySize size = new PtySize(rows, cols);
        stream.sendEvent(new Messages.Resize("resize", size.rows(), size.cols()));
    }

    @Override
    public void signal(String name) throws IOException {
        stream.sendEvent(new Messages.Signal("signal", name));
    }

    @Override
    public void kill() throws IOException {
        stream.sendEvent(new Messages.Kill("kill"));
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException, IOException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AgentException agent) {
                throw new AgentException(agent.code(), agent.getMessage());
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return exit.copy();
    }

    @Override
    public void close() {
        if (!exit.isDone()) {
            stream.abort();
        }
        stream.input(Frame.STDOUT).close();
        stream.input(Frame.STDERR).close();
    }
}
