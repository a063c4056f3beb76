package sh.createos.sandbox.model;

/** {@code {"ok": true}} (spec §4.13): network delete, attach and detach, disk attach, template delete. */
public record OkResponse(boolean ok) {
    public static final OkResponse OK = new OkResponse(true);
}
