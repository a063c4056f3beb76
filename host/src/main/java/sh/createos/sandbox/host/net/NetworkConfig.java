package sh.createos.sandbox.host.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import sh.createos.sandbox.host.kit.DataDir;

/**
 * How one {@link HostNetwork} lays out the host. {@code instance} names everything it creates in the kernel (nft
 * table {@code createos_<instance>}, taps {@code <instance>-<slot>}), so that two instances (tests, a second data
 * directory) never touch each other's; their pools must not overlap either.
 *
 * @param stateDir     where leases and networks are kept across restarts ({@code <data>/net})
 * @param sandboxPool  one /30 per sandbox is carved from it (gateway = first host address, guest = second)
 * @param networkPool  one /24 per private network is carved from it
 * @param upstreamDns  where the DNS forwarder sends every query it does not answer itself
 * @param dnsPort      the forwarder's port on the host (0: any free one); guests reach it as {@code <gateway>:53}
 * @param blocked      destinations no sandbox reaches even with an open allowlist (besides the pools and the host)
 * @param searchDomain the guests' DNS search domain, under which member names resolve ("fc.local")
 */
public record NetworkConfig(Path stateDir, String instance, Ipv4Cidr sandboxPool, Ipv4Cidr networkPool,
                            List<InetSocketAddress> upstreamDns, int dnsPort, List<Ipv4Cidr> blocked,
                            String searchDomain) {
    private static final Pattern INSTANCE = Pattern.compile("[a-z][a-z0-9]{1,6}");
    public static final String DEFAULT_INSTANCE = "csb";

    public NetworkConfig {
        if (instance == null || !INSTANCE.matcher(instance).matches()) {
            throw new IllegalArgumentException("network instance '" + instance + "' must be 2-7 of a-z, 0-9, starting with a letter");
        }
        if (sandboxPool.prefix() > 28 || networkPool.prefix() > 24) {
            throw new IllegalArgumentException("pools too small: sandbox pool " + sandboxPool + ", network pool " + networkPool);
        }
        if (sandboxPool.overlaps(networkPool)) {
            throw new IllegalArgumentException("sandbox pool " + sandboxPool + " overlaps network pool " + networkPool);
        }
        if (upstreamDns.isEmpty()) {
            throw new IllegalArgumentException("no upstream DNS server");
        }
        upstreamDns = List.copyOf(upstreamDns);
        blocked = List.copyOf(blocked);
    }

    /**
     * {@code <data>/net}, the host's resolvers, link-local blocked; for the default data directory instance "csb" with
     * 10.200.0.0/16 and 10.201.0.0/16; for any other one an instance and a pair of /16s of 10.202–10.249 derived from
     * its path, so that two servers with different data directories share nothing in the kernel (should two paths
     * draw the same pair, the second server refuses to start: {@link HostNetwork#open}).
     */
    public static NetworkConfig defaults(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        String instance = DEFAULT_INSTANCE;
        int sandboxOctet = 200;
        if (!dir.equals(DataDir.DEFAULT)) {
            byte[] hash = sha256(dir.toString());
            instance = "d" + HexFormat.of().formatHex(hash).substring(0, 5);
            sandboxOctet = 202 + 2 * Math.floorMod(hash[4], DERIVED_POOL_PAIRS);
        }
        return new NetworkConfig(dir.resolve("net"), instance, Ipv4Cidr.parse("10." + sandboxOctet + ".0.0/16"),
                Ipv4Cidr.parse("10." + (sandboxOctet + 1) + ".0.0/16"), resolvConf(Path.of("/etc/resolv.conf")), 0,
                List.of(Ipv4Cidr.parse("169.254.0.0/16")), "fc.local");
    }

    private static final Pattern SERVER_INSTANCE = Pattern.compile(DEFAULT_INSTANCE + "|d[0-9a-f]{5}");

    /** True for the instance names {@link #defaults} gives a server's data directory. */
    static boolean isServerInstance(String instance) {
        return SERVER_INSTANCE.matcher(instance).matches();
    }

    /** 10.202/16 … 10.249/16 (10.120–10.199 and 10.250/16, 10.251/16 are the tests'). */
    private static final int DERIVED_POOL_PAIRS = 24;

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The IPv4 nameservers of a resolv.conf, port 53. */
    public static List<InetSocketAddress> resolvConf(Path file) throws IOException {
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver") && Ipv4Cidr.isAddress(words[1])) {
                servers.add(new InetSocketAddress(words[1], 53));
            }
        }
        if (servers.isEmpty()) {
            throw new IOException(file + " names no IPv4 nameserver; configure the upstream DNS explicitly");
        }
        return servers;
    }

    String table() {
        return "createos_" + instance;
    }

    /** "csb-": the dash keeps one instance's tap wildcard ("csb-*") off another's taps ("csb1-0"). */
    String tapPrefix() {
        return instance + "-";
    }
}
