package sh.createos.sandbox.server.remote;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sh.createos.sandbox.server.ServerMain;
import sh.createos.sandbox.server.host.LocalHost;

/**
 * {@code ServerMain host} in a child JVM (a "machine"): its own data directory, TLS files and labels, registering
 * with a control plane; a test can SIGKILL it at any moment and start it again. Output goes to
 * {@code daemon-<n>.log} in its data directory.
 */
final class HostDaemonProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Pattern LISTENING = Pattern.compile("host daemon (\\S+) listening on 127\\.0\\.0\\.1:(\\d+)");
    private static int started;

    private final Process process;
    final Path dataDir;
    final int port;

    private HostDaemonProcess(Process process, Path dataDir, int port) {
        this.process = process;
        this.dataDir = dataDir;
        this.port = port;
    }

    /** Starts the daemon and returns once it listens (it heartbeats from then on). */
    static HostDaemonProcess start(String hostId, Path dataDir, Path tlsDir, Path tokenFile, String labels,
            String controlPlaneUrl) throws Exception {
        Path log = dataDir.resolve("daemon-" + (++started) + ".log");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), ServerMain.class.getName(), "host",
                "--data-dir", dataDir.toString(), "--listen", "127.0.0.1:0", "--token-file", tokenFile.toString(),
                "--host-id", hostId, "--tls-dir", tlsDir.toString(), "--labels", labels,
                "--control-plane", controlPlaneUrl, "--heartbeat-seconds", "1", "--network", "off"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            String output = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = LISTENING.matcher(output);
            if (m.find()) {
                return new HostDaemonProcess(process, dataDir, Integer.parseInt(m.group(2)));
            }
            if (!process.isAlive()) {
                throw new AssertionError("host daemon " + hostId + " exited with " + process.exitValue() + ":\n"
                        + output);
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("host daemon " + hostId + " did not start within " + START_TIMEOUT + ":\n"
                        + output);
            }
            Thread.sleep(100);
        }
    }

    /** SIGKILL: the daemon ends at once; its VMs (their own processes) keep running. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }

    /** Ends every VM and snapshot the machine holds (a daemon leaves them running by design). */
    static void wipe(Path dataDir) throws Exception {
        LocalHost engine = LocalHost.open(dataDir, null);
        try {
            var inventory = engine.inventory();
            for (String id : inventory.running()) {
                engine.destroyVm(id);
            }
            for (String id : inventory.paused().keySet()) {
                engine.destroySnapshot(id);
            }
        } finally {
            engine.detachAll();
        }
    }
}
