package sh.createos.sandbox.server.store;

import java.time.Instant;

/** A private network row; {@code cidr} is null until the host has allocated its range. */
public record NetworkRecord(String id, String userId, String name, String cidr, Instant createdAt) {}
