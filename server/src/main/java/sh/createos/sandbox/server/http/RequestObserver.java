package sh.createos.sandbox.server.http;

/** Told about every answered request: method, route pattern (never a raw path: no ids), status and duration. */
@FunctionalInterface
public interface RequestObserver {
    RequestObserver NONE = (method, route, status, nanos) -> {};

    void observe(String method, String route, int status, long nanos);
}
