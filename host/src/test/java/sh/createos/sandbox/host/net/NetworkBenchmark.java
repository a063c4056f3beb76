package sh.createos.sandbox.host.net;

import static sh.createos.sandbox.host.BenchFigures.medianOf;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;

/**
 * bench/network.sh: what the sandbox data path costs, each figure beside a baseline measured in the same run on an
 * "outside" host in a network namespace. Download throughput: the guest through tap + nft with an open list and with
 * an allowlist, beside the host itself fetching the same file (no VM, no rules). DNS: lookups through the host's
 * forwarder beside the same lookups sent by the guest straight to the upstream server.
 */
public final class NetworkBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long bytes = (args.length > 1 ? Long.parseLong(args[1]) : 32) * 1024 * 1024;
        String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3);
        int subnet = 160 + ThreadLocalRandom.current().nextInt(40);
        Path stateDir = Files.createTempDirectory("netbench-");
        try (ExternalHost outside = ExternalHost.start(Map.of("bench.test", "198.18." + subnet + ".2"), subnet)) {
            String server = outside.address(2);
            HostNetwork net = HostNetwork.open(new NetworkConfig(stateDir, "cb" + run,
                    Ipv4Cidr.parse("10." + (2 * subnet - 200) + ".0.0/16"), Ipv4Cidr.parse("10." + (2 * subnet - 199) + ".0.0/16"),
                    List.of(new InetSocketAddress(server, 53)), 0, List.of(), "fc.local"));
            Vm vm = null;
            try {
                Path dataDir = DataDir.fromEnvironment();
                GuestKit kit = GuestKit.load(dataDir);
                QemuVmm vmm = new QemuVmm(dataDir, kit, Accelerator.detect(), Duration.ofSeconds(240), net);
                String id = "b" + run + "-net";
                net.acquire(id, new SandboxIdentity("sb_bench", "bench"), EgressPolicy.OPEN, Bandwidth.UNMETERED);
                int imageMib = (int) (Files.size(kit.image("devbox:1")) / (1024 * 1024)) + 1;
                vm = vmm.boot(new VmSpec(id, "devbox:1", 1, 384, imageMib + 256, "bench"));
                String url = "http://" + server + "/bytes?n=" + bytes;
                List<Double> host = new ArrayList<>();
                List<Double> open = new ArrayList<>();
                List<Double> listed = new ArrayList<>();
                List<Double> forwarder = new ArrayList<>();
                List<Double> direct = new ArrayList<>();
                HttpClient client = HttpClient.newHttpClient();
                for (int i = 0; i < runs; i++) {
                    host.add(hostDownload(client, url, bytes));
                    net.setEgress(id, EgressPolicy.OPEN);
                    open.add(guestDownload(vm, url));
                    net.setEgress(id, EgressPolicy.of(List.of("bench.test:80", "10.0.0.0/8", "192.168.0.0/16:443")));
                    listed.add(guestDownload(vm, "http://bench.test/bytes?n=" + bytes));
                    net.setEgress(id, EgressPolicy.OPEN);
                    forwarder.add(lookups(vm, net.lease(id).orElseThrow().gateway()));
                    direct.add(lookups(vm, server));
                    System.out.printf("run %d: download MiB/s host %.1f, guest open %.1f, guest allowlist %.1f;"
                                    + " DNS lookup ms forwarder %.2f, direct %.2f%n", i + 1, host.get(i), open.get(i),
                            listed.get(i), forwarder.get(i), direct.get(i));
                }
                System.out.printf("median download MiB/s: host (baseline) %.1f, guest open %.1f, guest with allowlist %.1f%n",
                        medianOf(host), medianOf(open), medianOf(listed));
                System.out.printf("median DNS lookup ms: straight to upstream (baseline) %.2f, through the forwarder %.2f%n",
                        medianOf(direct), medianOf(forwarder));
                System.out.printf("load average: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
            } finally {
                if (vm != null) {
                    vm.destroy();
                }
                net.destroy();
            }
        }
    }

    private static double hostDownload(HttpClient client, String url, long bytes) throws Exception {
        long start = System.nanoTime();
        HttpResponse<Void> response = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() != 200) {
            throw new IOException("host download: HTTP " + response.statusCode());
        }
        return bytes / 1048576.0 / ((System.nanoTime() - start) / 1e9);
    }

    private static double guestDownload(Vm vm, String url) throws IOException {
        ExecResult r = vm.agent().run(ExecRequest.of("curl", "-sS", "-o", "/dev/null", "-w", "%{speed_download}", url));
        if (r.exitCode() != 0) {
            throw new IOException("guest download of " + url + " failed: " + r.stderr());
        }
        return Double.parseDouble(r.stdout().strip()) / 1048576.0;
    }

    /** Mean ms of 200 A lookups of bench.test sent by the guest to {@code resolver} over UDP. */
    private static double lookups(Vm vm, String resolver) throws IOException {
        String script = """
                import socket, struct, time, random
                q = lambda i: struct.pack('>HHHHHH', i, 0x0100, 1, 0, 0, 0) + b'\\x05bench\\x04test\\x00' + struct.pack('>HH', 1, 1)
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
                t = time.perf_counter()
                for i in range(200):
                    s.sendto(q(i), ('%s', 53)); s.recvfrom(4096)
                print((time.perf_counter() - t) / 200 * 1000)
                """.formatted(resolver);
        ExecResult r = vm.agent().run(ExecRequest.of("python3", "-c", script));
        if (r.exitCode() != 0) {
            throw new IOException("guest lookups via " + resolver + " failed: " + r.stderr());
        }
        return Double.parseDouble(r.stdout().strip());
    }
}
