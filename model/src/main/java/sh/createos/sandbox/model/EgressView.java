package sh.createos.sandbox.model;

import java.util.List;

/** {@code GET/PUT /v1/sandboxes/{id}/egress} (spec §4.9): {@code egress} is always an array, empty = allow all. */
public record EgressView(String id, List<String> egress) {

    /** Body of the PUT: {@code null}, {@code []} or an absent field mean allow all. */
    public record SetRequest(List<String> egress) {}
}
