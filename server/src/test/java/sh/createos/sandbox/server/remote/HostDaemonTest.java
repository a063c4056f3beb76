package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.host.HostEvent;
import sh.createos.sandbox.server.host.LocalHost;
import sh.createos.sandbox.server.host.SnapshotRef;
import sh.createos.sandbox.server.host.Started;
import sh.createos.sandbox.server.host.VmShape;
import sh.createos.sandbox.server.sandbox.SandboxService;

/**
 * The Host interface over gRPC against a real VM, the agent channel relayed: a {@link HostDaemon} over this machine's {@link LocalHost}, called
 * through {@link RemoteHost} on loopback over mutual TLS with the shared token; one VM for the whole lifecycle.
 */
class HostDaemonTest {
    @TempDir
    Path dir;

    @Test
    void aRemoteHostDrivesARealVmThroughTheDaemonAndHearsItsExit() throws Exception {
        TestApi.linkKit(dir);
        LocalHost local = LocalHost.open(dir, null);
        String token = "t0k3n-" + Ulid.next();
        String sandboxId = "sb_" + Ulid.next();
        HostPki pki = HostPki.open(dir.resolve("pki"));
        HostTls hostFiles = pki.issueHost("h1", List.of("127.0.0.1"), dir.resolve("h1-tls"));
        try (HostDaemon daemon = HostDaemon.start(local, new HostDaemon.Config("h1",
                     new InetSocketAddress("127.0.0.1", 0), token, hostFiles, java.util.Map.of("zone", "a")));
             RemoteHost remote = RemoteHost.connect("h1", "127.0.0.1", daemon.port(), token, pki.controlPlane());
             RemoteHost intruder = RemoteHost.connect("h1", "127.0.0.1", daemon.port(), "wrong",
                     pki.controlPlane())) {
            assertThatThrownBy(() -> intruder.isRunning(sandboxId)).isInstanceOfSatisfying(DomainException.class,
                    e -> {
                        assertThat(e.errorCode()).isEqualTo(ErrorCode.HOST_UNREACHABLE);
                        assertThat(e.getMessage()).contains("UNAUTHENTICATED");
                    });
            assertThat(remote.problem()).isEmpty();
            assertThat(remote.images()).contains("devbox:1");
            assertThat(remote.view().freeMib()).isPositive();
            assertThat(remote.labels()).containsEntry("zone", "a");
            assertThat(remote.imageEntries()).extracting(e -> e.name()).contains("devbox:1");
            assertThat(remote.imageMib("devbox:1")).as("the image's size crosses the wire").isPresent();

            Started started = remote.create(sandboxId, new VmShape("devbox:1", 1, 256, 10240, "remote-one"));
            assertThat(started.tookMs()).isPositive();
            assertThat(remote.isRunning(sandboxId)).isTrue();
            assertThat(remote.inventory().running()).contains(sandboxId);
            assertThat(remote.view().vmCount()).isEqualTo(1);

            // The agent channel, relayed byte for byte by the daemon: exec with output both ways and its exit code.
            ExecResult hello = remote.agent(sandboxId).run(ExecRequest.of("sh", "-c", "echo relayed; echo err >&2; exit 3"));
            assertThat(hello).isEqualTo(new ExecResult("relayed\n", "err\n", 3));
            String big = remote.agent(sandboxId).run(ExecRequest.of("sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"))
                    .stdout();
            assertThat(big).hasSize(300000).matches("x+");
            assertThat(remote.agent(sandboxId)).as("one relay per VM life").isSameAs(remote.agent(sandboxId));

            SnapshotRef paused = remote.pause(sandboxId);
            assertThat(paused.hostId()).isEqualTo(LocalHost.ID);
            assertThat(paused.bytes()).isPositive();
            assertThat(remote.isRunning(sandboxId)).isFalse();
            assertThat(remote.snapshot(sandboxId)).isPresent();
            assertThat(remote.inventory().paused()).containsKey(sandboxId);

            assertThat(remote.resume(sandboxId).how()).isEqualTo("resume");
            assertThat(remote.isRunning(sandboxId)).isTrue();
            assertThat(remote.agent(sandboxId).run(ExecRequest.of("echo", "after resume")).stdout())
                    .as("the pause ended the old relay; a new one reaches the resumed guest").isEqualTo("after resume\n");

            CompletableFuture<HostEvent> exit = new CompletableFuture<>();
            remote.onEvent(exit::complete);
            Path pidFile = dir.resolve("vms").resolve(SandboxService.vmId(sandboxId)).resolve("qemu.pid");
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            HostEvent event = exit.get(10, TimeUnit.SECONDS);
            assertThat(event).isInstanceOfSatisfying(HostEvent.VmExited.class, e -> {
                assertThat(e.sandboxId()).isEqualTo(sandboxId);
                assertThat(e.reason()).contains("exited unexpectedly");
            });
            assertThat(remote.isRunning(sandboxId)).isFalse();

            remote.destroyVm(sandboxId);
            remote.destroySnapshot(sandboxId);
            assertThat(remote.inventory().running()).doesNotContain(sandboxId);
            assertThat(remote.inventory().paused()).doesNotContainKey(sandboxId);
            assertThatThrownBy(() -> remote.resume(sandboxId)).isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("no complete snapshot");

            daemon.close();
            long before = System.nanoTime();
            assertThatThrownBy(() -> remote.isRunning(sandboxId)).isInstanceOfSatisfying(DomainException.class,
                    e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.HOST_UNREACHABLE));
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - before)).as("no hang").isLessThan(11);
            assertThat(remote.view().status()).as("spec §4: active | draining | dead").isEqualTo("dead");
        } finally {
            local.detachAll();
        }
        assertThat(List.of(dir.resolve("vms").toFile().list())).doesNotContain(SandboxService.vmId(sandboxId));
    }
}
