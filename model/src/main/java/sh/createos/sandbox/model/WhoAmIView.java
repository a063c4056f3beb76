package sh.createos.sandbox.model;

/** Data of {@code GET /v1/whoami}. {@code other}: neither running, paused nor destroyed; {@code total}: not destroyed. */
public record WhoAmIView(String userId, Stats stats) {

    public record Stats(long running, long paused, long other, long total) {}
}
