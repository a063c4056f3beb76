package sh.createos.sandbox.host.vmm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the time of one VM start went, step by step (overlay, QEMU spawn, QMP, memory load, agent HELLO, configure,
 * disk grow...): each {@link #step} closes the interval since the previous one. Logged at debug per start and read
 * by the benchmarks, so that what is large on the create path is measured rather than guessed.
 */
public final class StartTimings {
    private final long started;
    private long last;
    private final List<Map.Entry<String, Long>> steps = new ArrayList<>();

    StartTimings(long startedNanos) {
        this.started = startedNanos;
        this.last = startedNanos;
    }

    static StartTimings startingNow() {
        return new StartTimings(System.nanoTime());
    }

    long startedNanos() {
        return started;
    }

    /** Ends step {@code name} now; a step of the same name again adds to it. */
    synchronized StartTimings step(String name) {
        long now = System.nanoTime();
        steps.add(Map.entry(name, (now - last) / 1_000));
        last = now;
        return this;
    }

    /** Microseconds per step, in the order they first ran. */
    public synchronized Map<String, Long> micros() {
        Map<String, Long> sums = new LinkedHashMap<>();
        for (Map.Entry<String, Long> step : steps) {
            sums.merge(step.getKey(), step.getValue(), Long::sum);
        }
        return Collections.unmodifiableMap(sums);
    }

    /** Milliseconds from the start to the last step. */
    public synchronized long totalMillis() {
        return (last - started) / 1_000_000;
    }

    @Override
    public synchronized String toString() {
        StringBuilder text = new StringBuilder();
        micros().forEach((name, micros) -> text.append(text.isEmpty() ? "" : ", ").append(name).append(' ')
                .append(micros / 1000).append('.').append(micros / 100 % 10).append(" ms"));
        return text.toString();
    }
}
