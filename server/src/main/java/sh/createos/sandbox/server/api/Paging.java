package sh.createos.sandbox.server.api;

import java.util.List;
import sh.createos.sandbox.model.Page;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.http.Exchange;

/** Offset pagination: {@code limit} defaults to 50 and is clamped to 500; {@code offset} defaults to 0. */
record Paging(int limit, int offset) {
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;

    static Paging from(Exchange ex) {
        int limit = Math.min(parse(ex, "limit", DEFAULT_LIMIT), MAX_LIMIT);
        int offset = parse(ex, "offset", 0);
        if (limit < 1) {
            throw DomainException.invalid("limit must be at least 1, not " + limit);
        }
        if (offset < 0) {
            throw DomainException.invalid("offset must not be negative, not " + offset);
        }
        return new Paging(limit, offset);
    }

    /** Pages a list that is held in memory in full (small catalogs). */
    <T> Page<T> page(List<T> all) {
        int from = Math.min(offset, all.size());
        int to = Math.min(from + limit, all.size());
        return Page.of(all.subList(from, to), all.size(), limit, offset);
    }

    private static int parse(Exchange ex, String name, int fallback) {
        String value = ex.query(name);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw DomainException.invalid(name + " must be an integer, not '" + value + "'");
        }
    }
}
