package sh.createos.sandbox.server.ssh;

import static sh.createos.sandbox.host.BenchFigures.loadAverage;
import static sh.createos.sandbox.host.BenchFigures.medianOf;
import static sh.createos.sandbox.server.TestApi.map;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.server.TestApi;

/**
 * The SSH gateway beside the REST API, alternately in one run against one sandbox: the upload of the same MIB MiB
 * file by {@code sftp put} and by {@code PUT /files}, and the round trip of {@code ssh … true} (a whole OpenSSH
 * connection: handshake, auth, exec) beside {@code POST /exec}.
 * Usage: {@code SshBenchmark [RUNS] [MIB]}; bench/ssh.sh runs it.
 */
public final class SshBenchmark {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path dataDir = Files.createTempDirectory(DataDir.fromEnvironment().resolve("tmp"), "sshb-");
        try (TestApi api = TestApi.start(dataDir, true, c -> c.withSsh(SshConfig.of("127.0.0.1:0")))) {
            OpenSsh ssh = new OpenSsh(api.server.sshPort());
            Path key = OpenSsh.keygen(dataDir, "bench");
            TestApi.Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb",
                    "ssh_pubkeys", List.of(OpenSsh.publicKey(key))));
            if (created.status() != 200) {
                throw new IllegalStateException("creating the sandbox failed: " + created);
            }
            String id = created.data().get("id").asText();
            Path file = dataDir.resolve("upload.bin");
            byte[] data = new byte[mib << 20];
            new Random(1).nextBytes(data);
            Files.write(file, data);
            List<Double> sftp = new ArrayList<>();
            List<Double> rest = new ArrayList<>();
            List<Double> sshExec = new ArrayList<>();
            List<Double> restExec = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                long t0 = System.nanoTime();
                OpenSsh.Result put = ssh.sftpBatch(key, id, "put " + file + " /root/sftp.bin\n");
                double sftpSeconds = (System.nanoTime() - t0) / 1e9;
                if (put.exit() != 0) {
                    throw new IllegalStateException("sftp put failed: " + put);
                }
                long t1 = System.nanoTime();
                TestApi.Reply uploaded = api.send(TestApi.withKey(api.request("/v1/sandboxes/" + id
                        + "/files?path=%2Froot%2Frest.bin"), api.aliceKey)
                        .PUT(HttpRequest.BodyPublishers.ofFile(file)).build());
                double restSeconds = (System.nanoTime() - t1) / 1e9;
                if (uploaded.status() != 200) {
                    throw new IllegalStateException("REST upload failed: " + uploaded);
                }
                long t2 = System.nanoTime();
                OpenSsh.Result t = ssh.exec(key, id, "true");
                double sshMs = (System.nanoTime() - t2) / 1e6;
                if (t.exit() != 0) {
                    throw new IllegalStateException("ssh true failed: " + t);
                }
                long t3 = System.nanoTime();
                TestApi.Reply e = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "true"));
                double restMs = (System.nanoTime() - t3) / 1e6;
                if (e.status() != 200) {
                    throw new IllegalStateException("REST exec failed: " + e);
                }
                sftp.add(mib / sftpSeconds);
                rest.add(mib / restSeconds);
                sshExec.add(sshMs);
                restExec.add(restMs);
                System.out.printf("run %d: upload %d MiB sftp %.1f MiB/s, REST %.1f MiB/s; exec round trip ssh %.0f ms"
                        + " (new connection), REST %.0f ms%n", run, mib, mib / sftpSeconds, mib / restSeconds, sshMs,
                        restMs);
            }
            System.out.printf("median: upload sftp %.1f MiB/s vs REST %.1f MiB/s (ratio %.2f); exec ssh %.0f ms vs"
                    + " REST %.0f ms (ratio %.2f); load average %s%n", medianOf(sftp), medianOf(rest),
                    medianOf(sftp) / medianOf(rest), medianOf(sshExec), medianOf(restExec),
                    medianOf(sshExec) / medianOf(restExec), loadAverage());
        }
    }
}
