package sh.createos.sandbox.host.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.host.proc.CommandFailedException;

/** Runs nft: scripts as one atomic transaction ({@code nft -f}), and reads the counters and quotas of one table. */
final class Nft {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The set in every instance's table that holds its two pools. */
    static final String POOLS_SET = "pools";
    private static final String TABLE_PREFIX = "createos_";

    private final Path scratchDir;
    private final String table;

    Nft(Path scratchDir, String table) {
        this.scratchDir = scratchDir;
        this.table = table;
    }

    /**
     * The pools each server's createos table on this machine claims (its {@link #POOLS_SET} set), by table name.
     * Only instances {@link NetworkConfig#defaults} names count: a test's table that a crashed run left behind must not
     * stop a later run.
     */
    static Map<String, List<Ipv4Cidr>> claimedPools() throws IOException {
        Map<String, List<Ipv4Cidr>> claims = new HashMap<>();
        String tables = Command.of("nft", "-j", "list", "tables", "inet").timeout(TIMEOUT).run().stdout();
        for (JsonNode item : JSON.readTree(tables).path("nftables")) {
            String name = item.path("table").path("name").asText("");
            if (!name.startsWith(TABLE_PREFIX) || !NetworkConfig.isServerInstance(name.substring(TABLE_PREFIX.length()))) {
                continue;
            }
            String out;
            try {
                out = Command.of("nft", "-j", "list", "set", "inet", name, POOLS_SET).timeout(TIMEOUT).run().stdout();
            } catch (CommandFailedException e) {
                continue; // a table of an older version, or one being replaced right now
            }
            List<Ipv4Cidr> pools = new ArrayList<>();
            for (JsonNode set : JSON.readTree(out).path("nftables")) {
                for (JsonNode element : set.path("set").path("elem")) {
                    JsonNode prefix = element.path("prefix");
                    pools.add(prefix.isObject() ? Ipv4Cidr.parse(prefix.path("addr").asText() + "/" + prefix.path("len").asInt())
                            : Ipv4Cidr.parse(element.asText()));
                }
            }
            claims.put(name, pools);
        }
        return claims;
    }

    /** Applies {@code script} atomically: all of it or, on error, none (the error names the line). */
    void apply(String script) throws IOException {
        Files.createDirectories(scratchDir);
        Path file = Files.createTempFile(scratchDir, "nft-", ".nft");
        try {
            Files.writeString(file, script);
            Command.of("nft", "-f", file.toString()).timeout(TIMEOUT).run();
        } catch (CommandFailedException e) {
            throw new IOException(e.getMessage() + "\n--- script ---\n" + script, e);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    boolean tableExists() throws IOException {
        String out = Command.of("nft", "-j", "list", "tables", "inet").timeout(TIMEOUT).run().stdout();
        for (JsonNode item : JSON.readTree(out).path("nftables")) {
            if (table.equals(item.path("table").path("name").asText(null))) {
                return true;
            }
        }
        return false;
    }

    record Quota(long limit, long used) {}

    /** Bytes of every named counter of the table (empty when the table does not exist). */
    Map<String, Long> counters() throws IOException {
        Map<String, Long> bytes = new HashMap<>();
        if (!tableExists()) {
            return bytes;
        }
        String out = Command.of("nft", "-j", "list", "counters", "table", "inet", table).timeout(TIMEOUT).run().stdout();
        for (JsonNode item : JSON.readTree(out).path("nftables")) {
            JsonNode counter = item.path("counter");
            if (counter.isObject() && table.equals(counter.path("table").asText())) {
                bytes.put(counter.path("name").asText(), counter.path("bytes").asLong());
            }
        }
        return bytes;
    }

    Map<String, Quota> quotas() throws IOException {
        Map<String, Quota> quotas = new HashMap<>();
        if (!tableExists()) {
            return quotas;
        }
        String out = Command.of("nft", "-j", "list", "quotas", "table", "inet", table).timeout(TIMEOUT).run().stdout();
        for (JsonNode item : JSON.readTree(out).path("nftables")) {
            JsonNode quota = item.path("quota");
            if (quota.isObject() && table.equals(quota.path("table").asText())) {
                quotas.put(quota.path("name").asText(), new Quota(quota.path("bytes").asLong(), quota.path("used").asLong()));
            }
        }
        return quotas;
    }
}
