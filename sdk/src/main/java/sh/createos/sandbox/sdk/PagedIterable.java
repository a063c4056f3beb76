package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Every item of a paginated list, fetched a page (500 rows) at a time as the iteration reaches it. Each
 * {@link #iterator()} starts again from the first page; the server orders rows stably, so a walk sees each row
 * once. Page requests are retried like any GET.
 *
 * @param <T> the item type
 */
public final class PagedIterable<T> implements Iterable<T> {
    static final int PAGE_SIZE = 500;
    private final IntFunction<JsonNode> fetchPage;
    private final Function<JsonNode, T> item;

    PagedIterable(IntFunction<JsonNode> fetchPage, Function<JsonNode, T> item) {
        this.fetchPage = fetchPage;
        this.item = item;
    }

    @Override
    public Iterator<T> iterator() {
        return new Iterator<T>() {
            private final Deque<JsonNode> buffered = new ArrayDeque<>();
            private int offset;
            private boolean done;

            @Override
            public boolean hasNext() {
                while (buffered.isEmpty() && !done) {
                    fetch();
                }
                return !buffered.isEmpty();
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return item.apply(buffered.removeFirst());
            }

            /** Stops on a bare array, a missing total, an empty page, or the last page (as the TS SDK does). */
            private void fetch() {
                JsonNode data = fetchPage.apply(offset);
                JsonNode rows = data.isArray() ? data : data.path("data");
                rows.forEach(buffered::addLast);
                JsonNode total = data.path("pagination").path("total");
                offset += rows.size();
                done = data.isArray() || !total.isNumber() || rows.size() == 0 || offset >= total.asLong();
            }
        };
    }

    /** A sequential stream over every item; pages are fetched as the stream is consumed. */
    public Stream<T> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false);
    }

    /** All items in a list (fetches every page). */
    public List<T> toList() {
        List<T> all = new ArrayList<>();
        forEach(all::add);
        return all;
    }
}
