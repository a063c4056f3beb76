package sh.createos.sandbox.sdk;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import sh.createos.sandbox.model.ForkSandboxRequest;

/** A {@link Sandbox}'s slow calls (pause, resume, fork, waits, commands) as {@link CompletableFuture}s. */
public final class AsyncSandbox {
    private final Sandbox sandbox;
    private final Executor executor;

    AsyncSandbox(Sandbox sandbox, Executor executor) {
        this.sandbox = sandbox;
        this.executor = executor;
    }

    private <T> CompletableFuture<T> run(Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, executor);
    }

    /** {@link Sandbox#pause()}. */
    public CompletableFuture<Sandbox> pause() {
        return run(sandbox::pause);
    }

    /** {@link Sandbox#resume()}. */
    public CompletableFuture<Sandbox> resume() {
        return run(sandbox::resume);
    }

    /** {@link Sandbox#fork()}. */
    public CompletableFuture<Sandbox> fork() {
        return run(sandbox::fork);
    }

    /** {@link Sandbox#fork(ForkSandboxRequest)}. */
    public CompletableFuture<Sandbox> fork(ForkSandboxRequest request) {
        return run(() -> sandbox.fork(request));
    }

    /** {@link Sandbox#runCommand(String, List)}. */
    public CompletableFuture<ExecResult> runCommand(String cmd, List<String> args) {
        return run(() -> sandbox.runCommand(cmd, args));
    }

    /** {@link Sandbox#waitUntilRunning(Duration)}. */
    public CompletableFuture<Sandbox> waitUntilRunning(Duration timeout) {
        return run(() -> sandbox.waitUntilRunning(timeout));
    }

    /** {@link Sandbox#waitUntilPaused(Duration)}. */
    public CompletableFuture<Sandbox> waitUntilPaused(Duration timeout) {
        return run(() -> sandbox.waitUntilPaused(timeout));
    }

    /** {@link Sandbox#waitUntilDestroyed(Duration)}. */
    public CompletableFuture<Sandbox> waitUntilDestroyed(Duration timeout) {
        return run(() -> sandbox.waitUntilDestroyed(timeout));
    }

    /** {@link Sandbox#waitForPort(int, Duration)}. */
    public CompletableFuture<Void> waitForPort(int port, Duration timeout) {
        return run(() -> {
            sandbox.waitForPort(port, timeout);
            return null;
        });
    }
}
