package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.HostPublic;
import sh.createos.sandbox.model.RootfsData;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.host.Host;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.Store;

/**
 * {@link HostsOfHosts}'s placement and liveness rules over stand-in machines (in-memory {@link Host}s that answer
 * capacity questions and record every call), on a real SQLite store; in milliseconds, beside the process tests.
 */
class HostsOfHostsPlacementTest {
    @TempDir
    Path dir;
    private Store store;
    private final List<String> calls = new ArrayList<>();

    @BeforeEach
    void open() {
        store = JdbcStore.open("jdbc:sqlite:" + dir.resolve("control.db"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** A machine with these labels and images; {@code problem} non-null: it cannot boot (no kit). */
    private Host machine(String id, Map<String, String> labels, List<String> images, String problem, boolean desktop) {
        return (Host) Proxy.newProxyInstance(Host.class.getClassLoader(), new Class<?>[] {Host.class},
                (proxy, method, args) -> {
                    calls.add(id + "." + method.getName());
                    return switch (method.getName()) {
                        case "id" -> id;
                        case "labels" -> labels;
                        case "problem" -> Optional.ofNullable(problem);
                        case "hasMemoryFor" -> true;
                        case "images" -> images;
                        case "imageEntries" -> images.stream().map(n -> new RootfsData.Entry(n, null, null, null))
                                .toList();
                        case "imageMib" -> images.contains((String) args[0])
                                ? OptionalLong.of(id.equals("h2") ? 1200 : 800) : OptionalLong.empty();
                        case "hasDesktop" -> desktop && images.contains((String) args[0]) && ((String) args[0]).startsWith("desktop");
                        case "view" -> new HostPublic(id, problem == null ? "active" : "dead", 4096, 0, images);
                        case "onEvent", "detachAll" -> null;
                        case "isRunning" -> true;
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.getName());
                    };
                });
    }

    private HostsOfHosts threeMachines() {
        return new HostsOfHosts(store, List.of(
                machine("h1", Map.of("zone", "a"), List.of("devbox:1"), null, false),
                machine("h2", Map.of("zone", "b"), List.of("devbox:1", "desktop:1"), null, true),
                machine("h3", Map.of("zone", "a", "gpu", "true"), List.of("devbox:1"), "no guest kit", false)));
    }

    private static void assertCode(Runnable call, ErrorCode code, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(DomainException.class, e -> {
            assertThat(e.errorCode()).isEqualTo(code);
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void concurrentCreatesSpreadAndLabelsChooseTheMachine() {
        HostsOfHosts hosts = threeMachines();
        // Rows not written yet count as starting: two creates in a row land on different machines.
        String first = hosts.place("sb_1", 256, null, null);
        String second = hosts.place("sb_2", 256, null, Map.of());
        assertThat(List.of(first, second)).containsExactlyInAnyOrder("h1", "h2");
        assertThat(hosts.place("sb_3", 256, null, Map.of("zone", "a"))).as("h3 has no kit").isEqualTo("h1");
        assertThat(hosts.place("sb_4", 256, "h2", Map.of("zone", "b"))).isEqualTo("h2");
        assertCode(() -> hosts.place("sb_5", 256, null, Map.of("zone", "c")), ErrorCode.VALIDATION, "no host has the labels");
        assertCode(() -> hosts.place("sb_6", 256, "h2", Map.of("zone", "a")), ErrorCode.VALIDATION,
                "host 'h2' does not have the labels");
        assertCode(() -> hosts.place("sb_7", 256, null, Map.of("gpu", "true")), ErrorCode.UNAVAILABLE, "h3: no guest kit");
    }

    @Test
    void aMachineThatIsDownGetsNothingAndItsSandboxesFailWithoutACall() {
        HostsOfHosts hosts = threeMachines();
        assertThat(hosts.place("sb_a", 256, "h1", null)).isEqualTo("h1");
        hosts.markDown("h1", "no heartbeat for 12 s");

        calls.clear();
        assertCode(() -> hosts.isRunning("sb_a"), ErrorCode.HOST_UNREACHABLE, "unavailable: no heartbeat for 12 s");
        assertThat(calls).as("nothing was asked of h1").noneMatch(c -> c.startsWith("h1."));
        assertCode(() -> hosts.place("sb_b", 256, null, Map.of("zone", "a")), ErrorCode.UNAVAILABLE, "h1: unavailable");
        assertCode(() -> hosts.place("sb_c", 256, "h1", null), ErrorCode.UNAVAILABLE, "h1: unavailable");
        assertThat(hosts.place("sb_d", 256, null, null)).isEqualTo("h2");
        HostPublic down = hosts.views().get(0);
        assertThat(down).isEqualTo(new HostPublic("h1", "dead", 0, 0, null, null, null, Map.of("zone", "a")));
        assertThat(hosts.views().get(1).labels()).as("labels shown for machines that are up").isEqualTo(Map.of("zone", "b"));

        hosts.markUp("h1");
        assertThat(hosts.isRunning("sb_a")).isTrue();
        assertThat(hosts.place("sb_e", 256, null, Map.of("zone", "a"))).isEqualTo("h1");
    }

    @Test
    void theCatalogIsEveryMachineThatIsUp() {
        HostsOfHosts hosts = threeMachines();
        assertThat(hosts.imageEntries()).extracting(RootfsData.Entry::name).containsExactly("desktop:1", "devbox:1");
        assertThat(hosts.imageMib("devbox:1")).as("the largest: a disk must hold it anywhere").hasValue(1200);
        assertThat(hosts.hasDesktop("desktop:1")).isTrue();
        assertThat(hosts.hasDesktop("devbox:1")).isFalse();
        hosts.markDown("h2", "no heartbeat for 11 s");
        assertThat(hosts.imageEntries()).extracting(RootfsData.Entry::name).containsExactly("devbox:1");
        assertThat(hosts.imageMib("devbox:1")).hasValue(800);
        assertThat(hosts.hasDesktop("desktop:1")).isFalse();
        assertThat(hosts.problem()).isEmpty();
        hosts.markDown("h1", "no heartbeat for 11 s");
        assertThat(hosts.problem()).hasValueSatisfying(p -> assertThat(p).contains("h1: unavailable")
                .contains("h3: no guest kit"));
        assertThat(new HostsOfHosts(store, List.of()).problem()).hasValue("no host has registered yet");
    }
}
