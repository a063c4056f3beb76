package sh.createos.sandbox.model;

import java.util.List;

/** One page of a paginated list: {@code {"data":[…],"pagination":{…}}} inside the success envelope. */
public record Page<T>(List<T> data, Pagination pagination) {
    public static <T> Page<T> of(List<T> items, long total, int limit, int offset) {
        return new Page<>(List.copyOf(items), new Pagination(total, limit, offset, items.size()));
    }
}
