package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.server.ServerMain;

/**
 * A "machine" for tests: a network namespace of its own ({@code ip netns add}) joined to the root namespace by a veth
 * pair with a /30 of {@link #RANGE}, NATed by the root namespace to the outside, in which a host daemon
 * ({@code ServerMain host}, a child JVM) runs with its own data directory, so it has its own nft table, taps, routes
 * and sysctls like a separate machine. The control plane in the root namespace dials the daemon at
 * {@link #address()} (mutual TLS: plaintext is for loopback only); the daemon reaches the control plane at
 * {@link #rootAddress()} (the root end of its veth), so a control plane must listen on an address the namespace
 * can reach (0.0.0.0, or that address).
 *
 * <p>Everything it makes in the kernel is named with {@code csm<pid>…} (pid = the test JVM's): {@link #close} removes
 * it, and {@link #sweep} (run by every {@link #start}) removes what a killed test JVM left behind.
 */
final class NetnsMachine implements AutoCloseable {
    /** The /30s of the machines; no other test and no default pool uses it. */
    static final String RANGE = "172.30.";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration IP_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern LISTENING = Pattern.compile("host daemon (\\S+) listening on (\\S+):(\\d+)");
    private static final Pattern OURS = Pattern.compile("csm(\\d+)[nh]\\d+");
    private static final Path LOCK = Path.of("/tmp/createos-netns-machines.lock");
    private static final long PID = ProcessHandle.current().pid();
    private static int made;

    private final String name;
    private final String hostVeth;
    private final String rootAddress;
    private final String address;
    final String hostId;
    final Path dataDir;
    private Process daemon;
    private int port;
    private Path log;
    private int started;

    private NetnsMachine(String name, String hostVeth, String rootAddress, String address, String hostId,
            Path dataDir) {
        this.name = name;
        this.hostVeth = hostVeth;
        this.rootAddress = rootAddress;
        this.address = address;
        this.hostId = hostId;
        this.dataDir = dataDir;
    }

    /**
     * Makes the namespace and its link (nothing is left behind on failure); {@link #startDaemon} then runs the
     * daemon in it.
     */
    static synchronized NetnsMachine create(String hostId, Path dataDir) throws IOException {
        sweep();
        int n = ++made;
        String name = "csm" + PID + "n" + n;
        String hostVeth = "csm" + PID + "h" + n;
        String inner = "csm" + PID + "i" + n;
        try (FileChannel lockFile = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            int subnet = freeSubnet();
            String root = RANGE + (subnet >> 6) + "." + ((subnet & 63) * 4 + 1);
            String inside = RANGE + (subnet >> 6) + "." + ((subnet & 63) * 4 + 2);
            NetnsMachine machine = new NetnsMachine(name, hostVeth, root, inside, hostId, dataDir);
            try {
                ip("netns", "add", name);
                ip("link", "add", hostVeth, "type", "veth", "peer", "name", inner, "netns", name);
                ip("addr", "add", root + "/30", "dev", hostVeth);
                ip("link", "set", hostVeth, "up");
                inNs(name, "ip", "link", "set", "lo", "up");
                inNs(name, "ip", "link", "set", inner, "name", "eth0");
                inNs(name, "ip", "addr", "add", inside + "/30", "dev", "eth0");
                inNs(name, "ip", "link", "set", "eth0", "up");
                inNs(name, "ip", "route", "add", "default", "via", root);
                Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
                // The machine's own traffic to the outside leaves through the root namespace's address.
                nft("table ip " + name + " {\n  chain out {\n    type nat hook postrouting priority srcnat;"
                        + " policy accept;\n    ip saddr " + inside + " oifname != \"" + hostVeth + "\" masquerade\n"
                        + "  }\n}\n");
            } catch (IOException | RuntimeException e) {
                machine.removeKernelParts();
                throw e;
            }
            return machine;
        }
    }

    /**
     * Starts (or, after {@link #kill}, starts again) the host daemon in the namespace, listening on
     * {@link #address()}, heartbeating to {@code controlPlanes}; returns once it listens.
     *
     * @param extraArgs further {@code host} options (e.g. {@code --overlay-address})
     */
    void startDaemon(Path tlsDir, Path tokenFile, String labels, String controlPlanes, String... extraArgs)
            throws Exception {
        Files.createDirectories(dataDir);
        log = dataDir.resolve("daemon-" + (++started) + ".log");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", name,
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), ServerMain.class.getName(), "host",
                "--data-dir", dataDir.toString(), "--listen", address + ":0", "--token-file", tokenFile.toString(),
                "--host-id", hostId, "--tls-dir", tlsDir.toString(), "--labels", labels,
                "--control-plane", controlPlanes, "--heartbeat-seconds", "1"));
        command.addAll(List.of(extraArgs));
        daemon = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            String output = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = LISTENING.matcher(output);
            if (m.find()) {
                port = Integer.parseInt(m.group(3));
                return;
            }
            if (!daemon.isAlive()) {
                throw new AssertionError("host daemon " + hostId + " in " + name + " exited with "
                        + daemon.exitValue() + ":\n" + output);
            }
            if (System.nanoTime() > deadline) {
                daemon.destroyForcibly();
                throw new AssertionError("host daemon " + hostId + " did not start within " + START_TIMEOUT + ":\n"
                        + output);
            }
            Thread.sleep(100);
        }
    }

    /** The machine's own address (where its daemon listens, its underlay address). */
    String address() {
        return address;
    }

    /** The root namespace's end of the link: where the machine reaches a control plane on this machine. */
    String rootAddress() {
        return rootAddress;
    }

    int port() {
        return port;
    }

    /** The daemon's output so far. */
    String log() throws IOException {
        return log == null ? "" : Files.readString(log);
    }

    /** Runs a command in the machine's namespace (e.g. {@code ip -d link}); fails naming it and its stderr. */
    String exec(String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", name));
        command.addAll(List.of(argv));
        return Command.of(command).timeout(IP_TIMEOUT).run().stdout();
    }

    /** SIGKILL of the daemon: its VMs (their own processes, in the namespace) keep running. */
    void kill() throws InterruptedException {
        if (daemon != null) {
            daemon.destroyForcibly();
            daemon.waitFor();
        }
    }

    /**
     * Stops the daemon, ends every VM and snapshot of the machine (in the namespace: their taps and rules are
     * there), and removes the namespace and its link.
     */
    @Override
    public void close() throws Exception {
        try {
            if (daemon != null) {
                daemon.destroy();
                daemon.waitFor();
            }
            if (Files.isDirectory(dataDir)) {
                wipeInNamespace();
            }
        } finally {
            removeKernelParts();
        }
    }

    private void wipeInNamespace() throws Exception {
        // The engine's teardown must run where its taps and nft table are: a child JVM in the namespace.
        Path wipeLog = dataDir.resolve("wipe.log");
        Process wipe = new ProcessBuilder("ip", "netns", "exec", name,
                ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
                Wipe.class.getName(), dataDir.toString()).redirectErrorStream(true)
                .redirectOutput(wipeLog.toFile()).start();
        if (wipe.waitFor() != 0) {
            throw new AssertionError("wiping machine " + hostId + " failed:\n" + Files.readString(wipeLog));
        }
    }

    /** {@code main}: ends every VM and snapshot of a data directory (run inside the machine's namespace). */
    static final class Wipe {
        public static void main(String[] args) throws Exception {
            HostDaemonProcess.wipe(Path.of(args[0]));
        }
    }

    private void removeKernelParts() throws IOException {
        remove(name, hostVeth);
    }

    private static void remove(String netns, String veth) throws IOException {
        // Processes still in the namespace (VMs of a killed test) die with it only if killed: find them by netns.
        String pids = quietly("ip", "netns", "pids", netns);
        for (String pid : pids.strip().split("\\s+")) {
            if (!pid.isEmpty()) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        quietly("ip", "link", "del", veth);
        quietly("ip", "netns", "del", netns);
        quietly("nft", "delete", "table", "ip", netns);
    }

    /** Removes the namespaces, links and tables of machines whose test JVM is gone. */
    static synchronized void sweep() throws IOException {
        String namespaces = Command.of("ip", "netns", "list").timeout(IP_TIMEOUT).run().stdout();
        for (String line : namespaces.split("\n")) {
            String ns = line.strip().split("\\s+")[0];
            Matcher m = OURS.matcher(ns);
            if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                remove(ns, ns.replaceFirst("n(\\d+)$", "h$1"));
            }
        }
    }

    /** The first /30 of {@link #RANGE} that no link of the root namespace holds (under {@link #LOCK}). */
    private static int freeSubnet() throws IOException {
        String addresses = Command.of("ip", "-4", "-o", "addr", "show").timeout(IP_TIMEOUT).run().stdout();
        for (int subnet = 0; subnet < 64 * 256; subnet++) {
            String root = RANGE + (subnet >> 6) + "." + ((subnet & 63) * 4 + 1) + "/";
            if (!addresses.contains(" " + root)) {
                return subnet;
            }
        }
        throw new IOException("no free /30 left in " + RANGE + "0.0/16");
    }

    /** Teardown of what may already be gone: a failure is not one (its output is empty). */
    private static String quietly(String... argv) throws IOException {
        try {
            return Command.of(argv).timeout(IP_TIMEOUT).run().stdout();
        } catch (sh.createos.sandbox.host.proc.CommandFailedException gone) {
            return "";
        }
    }

    private static void ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        Command.of(argv).timeout(IP_TIMEOUT).run();
    }

    private static void inNs(String ns, String... argv) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(argv));
        Command.of(command).timeout(IP_TIMEOUT).run();
    }

    private static void nft(String script) throws IOException {
        Path file = Files.createTempFile("csm-nft", ".nft");
        try {
            Files.writeString(file, script);
            Command.of("nft", "-f", file.toString()).timeout(IP_TIMEOUT).run();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
