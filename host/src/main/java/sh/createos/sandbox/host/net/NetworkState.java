package sh.createos.sandbox.host.net;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Leases and networks on disk ({@code leases/<vmId>.json}, {@code networks/<id>.json}), each replaced atomically. */
final class NetworkState {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private final Path leases;
    private final Path networks;

    NetworkState(Path stateDir) throws IOException {
        this.leases = stateDir.resolve("leases");
        this.networks = stateDir.resolve("networks");
        Files.createDirectories(leases);
        Files.createDirectories(networks);
    }

    List<SandboxLease> leases() throws IOException {
        return readAll(leases, SandboxLease.class);
    }

    List<PrivateNetwork> networks() throws IOException {
        return readAll(networks, PrivateNetwork.class);
    }

    void save(SandboxLease lease) throws IOException {
        write(leases.resolve(lease.vmId() + ".json"), lease);
    }

    void save(PrivateNetwork network) throws IOException {
        write(networks.resolve(network.id() + ".json"), network);
    }

    void removeLease(String vmId) throws IOException {
        Files.deleteIfExists(leases.resolve(vmId + ".json"));
    }

    void removeNetwork(String id) throws IOException {
        Files.deleteIfExists(networks.resolve(id + ".json"));
    }

    private static void write(Path file, Object value) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), value);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static <T> List<T> readAll(Path dir, Class<T> type) throws IOException {
        List<T> items = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                try {
                    items.add(JSON.readValue(file.toFile(), type));
                } catch (IOException e) {
                    throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
                }
            }
        }
        return items;
    }
}
