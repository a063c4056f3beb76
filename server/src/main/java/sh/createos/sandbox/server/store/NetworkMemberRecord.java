package sh.createos.sandbox.server.store;

import java.time.Instant;
import sh.createos.sandbox.model.SandboxStatus;

/**
 * A sandbox's membership in a network, with the member's name and status as the sandbox row has them now;
 * {@code ip} is null until the host has programmed the member.
 */
public record NetworkMemberRecord(String networkId, String sandboxId, String sandboxName, SandboxStatus sandboxStatus,
                                  String ip, Instant attachedAt) {}
