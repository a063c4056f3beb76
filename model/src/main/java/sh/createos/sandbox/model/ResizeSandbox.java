package sh.createos.sandbox.model;

/** {@code POST …/resize}: request {@code {"disk_mib":N}}, response {@code {"id":…,"disk_mib":N}}. */
public final class ResizeSandbox {
    private ResizeSandbox() {}

    public record Request(Integer diskMib) {}

    public record Response(String id, int diskMib) {}
}
