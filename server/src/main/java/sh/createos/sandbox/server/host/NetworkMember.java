package sh.createos.sandbox.server.host;

/** A member of a private network as the control plane knows it: its sandbox, name and address (null: pending). */
public record NetworkMember(String sandboxId, String name, String ip) {}
