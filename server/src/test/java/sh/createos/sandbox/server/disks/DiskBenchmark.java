package sh.createos.sandbox.server.disks;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.net.ExternalHost;
import sh.createos.sandbox.host.net.NetworkConfig;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.server.ServerConfig;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.network.TestNetworks;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Sequential throughput of an S3 disk: writing and reading a file through the s3fs mount in a sandbox, beside an S3
 * API upload and download of the same number of bytes from the host (the AWS SDK), against the same S3Proxy in a
 * network namespace, alternately in one run so both see the same machine load. The guest times its own copy
 * (close included, which is when s3fs uploads); the page cache is dropped before the read.
 * Usage: {@code DiskBenchmark [RUNS=3] [MIB=32]}; bench/disks.sh runs it.
 */
public final class DiskBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        Path dir = Files.createTempDirectory(DataDir.fromEnvironment().resolve("tmp"), "disk-bench-");
        int subnet = 216 + ThreadLocalRandom.current().nextInt(16);
        NetworkConfig network = null;
        try (ExternalHost outside = ExternalHost.start(Map.of(), subnet);
             S3ProxyServer s3proxy = S3ProxyServer.start(outside.namespace(), outside.address(2), 9000, dir);
             S3Client s3 = s3proxy.client()) {
            s3.createBucket(b -> b.bucket("bench"));
            NetworkConfig net = TestNetworks.config(dir, List.of(new InetSocketAddress(outside.address(2), 53)));
            network = net;
            try (TestApi api = TestApi.start(dir.resolve("server"), true, c -> c.withNetwork(net))) {
                check(api.post("/v1/disks", api.aliceKey, TestApi.map("name", "bench", "kind", "s3", "config",
                        TestApi.map("bucket", "bench", "endpoint", s3proxy.endpoint(), "use_path_style", true),
                        "credentials", TestApi.map("access_key", S3ProxyServer.ACCESS_KEY, "secret_key",
                                S3ProxyServer.SECRET_KEY))).status() == 200, "register");
                String id = api.post("/v1/sandboxes", api.aliceKey, TestApi.map("shape", "s-1vcpu-1gb", "disks",
                        List.of(TestApi.map("disk_id", "bench", "mount_path", "/mnt/bench")))).data().get("id")
                        .asText();
                awaitMounted(api, id);
                sh(api, id, "head -c " + mib + "M /dev/urandom > /root/src.bin");
                byte[] bytes = new byte[mib << 20];
                ThreadLocalRandom.current().nextBytes(bytes);

                System.out.printf("accelerator %s, %d MiB, %d runs, load average %s%n", Accelerator.detect(), mib,
                        runs, loadAverage());
                System.out.printf("%4s %18s %18s %18s %18s%n", "run", "mount_write_MiB/s", "s3api_put_MiB/s",
                        "mount_read_MiB/s", "s3api_get_MiB/s");
                List<Double> mountWrite = new ArrayList<>();
                List<Double> apiPut = new ArrayList<>();
                List<Double> mountRead = new ArrayList<>();
                List<Double> apiGet = new ArrayList<>();
                for (int run = 1; run <= runs; run++) {
                    double w = mib / seconds(sh(api, id, "s=$(date +%s%N); cp /root/src.bin /mnt/bench/m" + run
                            + ".bin; e=$(date +%s%N); echo $((e-s))"));
                    String key = "h" + run + ".bin";
                    long started = System.nanoTime();
                    s3.putObject(b -> b.bucket("bench").key(key), RequestBody.fromBytes(bytes));
                    double put = mib / ((System.nanoTime() - started) / 1e9);
                    double r = mib / seconds(sh(api, id, "sync; echo 3 > /proc/sys/vm/drop_caches; s=$(date +%s%N);"
                            + " cat /mnt/bench/m" + run + ".bin > /dev/null; e=$(date +%s%N); echo $((e-s))"));
                    started = System.nanoTime();
                    int got = s3.getObjectAsBytes(b -> b.bucket("bench").key(key)).asByteArray().length;
                    double get = mib / ((System.nanoTime() - started) / 1e9);
                    check(got == bytes.length, "downloaded " + got + " bytes");
                    System.out.printf("%4d %18.1f %18.1f %18.1f %18.1f%n", run, w, put, r, get);
                    mountWrite.add(w);
                    apiPut.add(put);
                    mountRead.add(r);
                    apiGet.add(get);
                }
                System.out.printf("median sequential write through the mount: %7.1f MiB/s  (S3 API put from the host"
                        + " %7.1f MiB/s, %.2f x)%n", medianOf(mountWrite), medianOf(apiPut),
                        medianOf(mountWrite) / medianOf(apiPut));
                System.out.printf("median sequential read through the mount:  %7.1f MiB/s  (S3 API get from the host"
                        + " %7.1f MiB/s, %.2f x)%n", medianOf(mountRead), medianOf(apiGet),
                        medianOf(mountRead) / medianOf(apiGet));
                System.out.printf("load average at the end: %s%n", loadAverage());
                api.delete("/v1/sandboxes/" + id, api.aliceKey);
            }
        } finally {
            if (network != null) {
                TestNetworks.destroy(network);
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void awaitMounted(TestApi api, String id) throws Exception {
        for (int i = 0; i < 600; i++) {
            JsonNode mounts = api.get("/v1/sandboxes/" + id + "/disks", api.aliceKey).data().get("data");
            String status = mounts.get(0).get("mount_status").asText();
            if (status.equals("mounted")) {
                return;
            }
            check(!status.equals("error"), "the mount failed: " + mounts);
            Thread.sleep(200);
        }
        throw new IllegalStateException("the disk did not mount in 120 s");
    }

    private static String sh(TestApi api, String id, String script) throws Exception {
        JsonNode result = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, TestApi.map("cmd", "bash", "args",
                List.of("-c", script))).data().get("result");
        check(result.get("exit_code").asInt() == 0, script + ": " + result);
        return result.get("stdout").asText().strip();
    }

    private static double seconds(String nanos) {
        return Long.parseLong(nanos) / 1e9;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
