package sh.createos.sandbox.model;

import java.util.List;

/**
 * A private network (spec §4.14): {@code member_count} on list responses, {@code members} on the detail GET;
 * {@code cidr} (the overlay range) once the host has allocated it.
 */
public record Network(String id, String name, String createdAt, String cidr, Integer memberCount,
                      List<Member> members) {

    /** {@code ip} is the overlay address, left out until programmed; {@code status} is free-form. */
    public record Member(String sandboxId, String status, String ip, String name) {}

    /** Body of {@code POST /v1/networks}. */
    public record CreateRequest(String name) {}
}
