package sh.createos.sandbox.host.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import sh.createos.sandbox.host.proc.Command;

/**
 * A host "outside" on this machine, for tests without the internet: a network namespace behind a veth pair, with
 * addresses in 198.18.N.0/24 (the benchmarking range: never on a real network here), running {@link ExternalServices}.
 * The host side is {@code .1}; the namespace holds {@link #address(int) .2 .3 .4}. Closing removes everything.
 */
public final class ExternalHost implements AutoCloseable {
    private final String namespace;
    private final String hostVeth;
    private final String prefix;
    private Process services;

    private ExternalHost(String namespace, String hostVeth, String prefix) {
        this.namespace = namespace;
        this.hostVeth = hostVeth;
        this.prefix = prefix;
    }

    /** {@code zone}: DNS name -> address the namespace's DNS server answers. */
    public static ExternalHost start(Map<String, String> zoneFor, int subnet) throws IOException {
        String tag = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3);
        ExternalHost host = new ExternalHost("cxt-" + tag, "cxh" + tag, "198.18." + subnet + ".");
        try {
            host.setUp(zoneFor);
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
        return host;
    }

    /** The network namespace's name, for {@code ip netns exec} of further services (e.g. an S3 server). */
    public String namespace() {
        return namespace;
    }

    /** {@code .n} of this host's /24 (1 = the host's own end). */
    public String address(int n) {
        return prefix + n;
    }

    private void setUp(Map<String, String> zone) throws IOException {
        String nsVeth = "cxn" + hostVeth.substring(3);
        run("ip", "netns", "add", namespace);
        run("ip", "link", "add", hostVeth, "type", "veth", "peer", "name", nsVeth);
        run("ip", "link", "set", nsVeth, "netns", namespace);
        run("ip", "addr", "add", address(1) + "/24", "dev", hostVeth);
        run("ip", "link", "set", hostVeth, "up");
        for (int n = 2; n <= 4; n++) {
            inside("ip", "addr", "add", address(n) + "/24", "dev", nsVeth);
        }
        inside("ip", "link", "set", nsVeth, "up");
        inside("ip", "link", "set", "lo", "up");
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
                ProcessHandle.current().info().command().orElse("java"), "-cp", System.getProperty("java.class.path"),
                ExternalServices.class.getName()));
        zone.forEach((name, address) -> argv.add(name + "=" + address));
        services = new ProcessBuilder(argv).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(services.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"ready".equals(line)) {
            throw new IOException("the external services in " + namespace + " did not start: " + line);
        }
        Thread.ofVirtual().start(() -> out.lines().forEach(l -> System.err.println("[external] " + l)));
    }

    /**
     * Puts {@code hostAddress}/24 on the host's end and {@code address}/24 in the namespace: a machine on the host's
     * LAN, for what sandboxes must not reach by default.
     */
    public void addLanAddress(String hostAddress, String address) throws IOException {
        String nsVeth = "cxn" + hostVeth.substring(3);
        run("ip", "addr", "add", hostAddress + "/24", "dev", hostVeth);
        inside("ip", "addr", "add", address + "/24", "dev", nsVeth);
    }

    private void inside(String... argv) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(argv));
        Command.of(full).run();
    }

    private static void run(String... argv) throws IOException {
        Command.of(argv).run();
    }

    @Override
    public void close() throws IOException {
        if (services != null) {
            services.destroyForcibly();
            try {
                services.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Deleting the namespace deletes its end of the veth pair, and with it the host's end.
        if (java.nio.file.Files.exists(java.nio.file.Path.of("/run/netns", namespace))) {
            Command.of("ip", "netns", "del", namespace).run();
        }
        java.nio.file.Path veth = java.nio.file.Path.of("/sys/class/net", hostVeth);
        if (java.nio.file.Files.exists(veth)) {
            try {
                Command.of("ip", "link", "del", hostVeth).run();
            } catch (IOException e) {
                if (java.nio.file.Files.exists(veth)) { // else it went with the namespace meanwhile
                    throw e;
                }
            }
        }
    }
}
