package sh.createos.sandbox.model;

import java.util.List;

/** {@code POST …/ssh-pubkeys}: request {@code {"keys":[…]}}, response {@code {"count":N}} (total after de-duplication). */
public final class SshPubkeys {
    private SshPubkeys() {}

    public record Request(List<String> keys) {}

    public record Response(int count) {}
}
