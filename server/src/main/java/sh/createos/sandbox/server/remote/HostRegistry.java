package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.ListenAddress;
import sh.createos.sandbox.server.store.HostStore;

/**
 * The control plane's side of self-registration: a host daemon started with {@code --control-plane URL} sends a
 * heartbeat ({@code PUT /v1/hosts/{id}}, {@link HostRegistryRoutes}) every few seconds; it goes into the shared
 * {@code hosts} table, so every replica learns of it. Each replica reads the table every second: a new host is
 * connected (over mutual TLS, its certificate checked against its id) and joins {@link HostsOfHosts}; one whose last
 * heartbeat is older than {@code deadAfter} is marked down there (no placements, its sandboxes answer 503 at once,
 * {@code dead} in {@code GET /v1/hosts}) until it heartbeats again.
 */
public final class HostRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostRegistry.class);
    private static final Pattern HOST_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Label keys and values as Kubernetes allows them (an optional DNS prefix, then a name), kept simple. */
    private static final Pattern LABEL_KEY = Pattern.compile("([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?");

    /** Makes the client of a registered daemon. */
    public interface Connector {
        RemoteHost connect(String hostId, String host, int port) throws IOException;
    }

    private record Known(String address, RemoteHost client) {}

    private final HostStore store;
    private final HostsOfHosts hosts;
    private final Connector connector;
    private final Duration deadAfter;
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("host-registry").factory());

    public HostRegistry(HostStore store, HostsOfHosts hosts, Connector connector, Duration deadAfter) {
        this.store = store;
        this.hosts = hosts;
        this.connector = connector;
        this.deadAfter = deadAfter;
    }

    /** Reads the table now and then every second. */
    public HostRegistry start() {
        refresh();
        timer.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (RuntimeException e) {
                log.warn("reading the registered hosts failed: {}", e.getMessage());
            }
        }, 1, 1, TimeUnit.SECONDS);
        return this;
    }

    /**
     * A heartbeat of daemon {@code hostId}, dialled at {@code address}, with its placement labels.
     *
     * @throws DomainException INVALID for a malformed id, address or label
     */
    public void heartbeat(String hostId, String address, Map<String, String> labels) {
        if (hostId == null || !HOST_ID.matcher(hostId).matches() || hostId.equals(HostsOfHosts.ID)) {
            throw DomainException.invalid("a host id is a DNS label (a-z, 0-9, '-'), not '" + hostId + "'");
        }
        ListenAddress parsed;
        try {
            parsed = ListenAddress.parse(Objects.requireNonNullElse(address, ""), "address");
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid(e.getMessage());
        }
        if (parsed.host().equals("0.0.0.0") || parsed.host().equals("::") || parsed.port() == 0) {
            throw DomainException.invalid("address must be where the control plane can dial the daemon, not '"
                    + address + "'");
        }
        Map<String, String> checked = labels == null ? Map.of() : labels;
        checked.forEach((key, value) -> {
            if (key == null || !LABEL_KEY.matcher(key).matches() || value == null
                    || !LABEL_VALUE.matcher(value).matches()) {
                throw DomainException.invalid("invalid label '" + key + "=" + value + "' (Kubernetes label syntax)");
            }
        });
        store.heartbeat(hostId, address, checked, System.currentTimeMillis());
        refresh();
    }

    /** Brings {@link HostsOfHosts} in line with the table: new or moved hosts connected, liveness from heartbeats. */
    public synchronized void refresh() {
        long now = System.currentTimeMillis();
        for (HostStore.HostRow row : store.all()) {
            Known current = known.get(row.id());
            if (current == null || !current.address().equals(row.address())) {
                ListenAddress address = ListenAddress.parse(row.address(), "address");
                try {
                    RemoteHost client = connector.connect(row.id(), address.host(), address.port());
                    known.put(row.id(), new Known(row.address(), client));
                    hosts.add(client, row.labels());
                    log.info("host {} registered at {} with labels {}", row.id(), row.address(), row.labels());
                } catch (IOException | RuntimeException e) {
                    log.warn("host {} at {} cannot be connected: {}", row.id(), row.address(), e.getMessage());
                    continue;
                }
            } else {
                hosts.add(current.client(), row.labels()); // labels as last reported
            }
            long silent = now - row.lastHeartbeat();
            if (silent > deadAfter.toMillis()) {
                hosts.markDown(row.id(), "no heartbeat for " + silent / 1000 + " s");
            } else {
                hosts.markUp(row.id());
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        known.values().forEach(k -> k.client().close());
    }
}
