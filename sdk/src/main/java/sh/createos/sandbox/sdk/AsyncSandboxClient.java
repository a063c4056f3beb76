package sh.createos.sandbox.sdk;

import java.util.concurrent.CompletableFuture;

/**
 * {@link SandboxClient}'s slow calls as {@link CompletableFuture}s, run on the client's executor (virtual threads
 * on Java 21+). Failures complete the future exceptionally with the same {@link SandboxException}s.
 */
public final class AsyncSandboxClient {
    private final SandboxClient client;

    AsyncSandboxClient(SandboxClient client) {
        this.client = client;
    }

    /** {@link SandboxClient#createSandbox} without blocking the caller. */
    public CompletableFuture<Sandbox> createSandbox(CreateSandboxRequest request) {
        return CompletableFuture.supplyAsync(() -> client.createSandbox(request), client.transport.executor);
    }

    /** {@link SandboxClient#getSandbox} without blocking the caller. */
    public CompletableFuture<Sandbox> getSandbox(String id) {
        return CompletableFuture.supplyAsync(() -> client.getSandbox(id), client.transport.executor);
    }
}
