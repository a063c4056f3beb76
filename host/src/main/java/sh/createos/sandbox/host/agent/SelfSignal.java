package sh.createos.sandbox.host.agent;

/**
 * A request from inside the guest ({@code POST 127.0.0.1:1029/self/pause} or {@code /self/delete}): {@code action}
 * is "pause" or "delete", {@code reason} the caller's text (at most 128 characters, empty when none was given).
 */
public record SelfSignal(String action, String reason) {
    public SelfSignal {
        reason = reason == null ? "" : reason;
    }
}
