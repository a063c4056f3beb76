package sh.createos.sandbox.model;

/** {@code total} counts every row matching the filter; clients page on {@code offset + count < total}. */
public record Pagination(long total, int limit, int offset, int count) {}
