package sh.createos.sandbox.model;

import java.util.List;

/** A worker host: status {@code active}, {@code draining} or {@code dead}. */
public record HostPublic(String id, String status, long freeMib, int vmCount, List<String> rootfses) {}
