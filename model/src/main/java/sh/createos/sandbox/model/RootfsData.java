package sh.createos.sandbox.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** Data of {@code GET /v1/rootfs} (not paginated); {@code entries} is absent when the catalog is empty. */
public record RootfsData(List<String> rootfs, @JsonProperty("default") String defaultRootfs, List<Entry> entries) {

    public record Entry(String name, String description, Boolean deprecated, String successor) {}
}
