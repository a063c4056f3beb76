package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * What a start makes of rows an earlier process left half-done, when their VMs and snapshots are gone (the kill -9
 * tests of {@code api.PauseRecoveryTest} cover the cases where the engine still holds something).
 */
class ReconcileTest {
    @TempDir
    Path dir;

    @Test
    void aStartFinishesOrFailsWhatTheLastProcessLeftHalfDone() throws Exception {
        TestApi.linkKit(dir);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        User user = new User("u_" + Ulid.next(), "left@example.com", 5, now);
        SandboxRecord creating = row(user, "was-creating", SandboxStatus.CREATING, now);
        SandboxRecord destroying = row(user, "was-destroying", SandboxStatus.DESTROYING, now);
        SandboxRecord running = row(user, "was-running", SandboxStatus.RUNNING, now);
        SandboxRecord paused = row(user, "was-paused", SandboxStatus.PAUSED, now);
        SandboxRecord pausing = row(user, "was-pausing", SandboxStatus.PAUSING, now);
        SandboxRecord resuming = row(user, "was-resuming", SandboxStatus.RESUMING, now);
        SandboxRecord forking = row(user, "was-forking", SandboxStatus.FORKING, now);
        try (Store store = JdbcStore.sqlite(dir.resolve("control.db"))) {
            store.createUser(user);
            for (SandboxRecord r : List.of(creating, destroying, running, paused, pausing, resuming, forking)) {
                store.insertSandbox(r);
            }
        }
        try (ApiServer server = ApiServer.start(ServerConfig.of(dir, "127.0.0.1:0", null))) {
            Store store = server.store();
            assertThat(store.sandbox(creating.id()).orElseThrow().status()).isEqualTo(SandboxStatus.FAILED);
            assertThat(store.sandbox(creating.id()).orElseThrow().failure()).contains("booting");
            assertThat(store.sandbox(destroying.id()).orElseThrow().status()).isEqualTo(SandboxStatus.DESTROYED);
            assertThat(store.sandbox(running.id()).orElseThrow().status()).isEqualTo(SandboxStatus.FAILED);
            assertThat(store.sandbox(running.id()).orElseThrow().failure()).contains("VM is gone");
            // Without their snapshot, paused sandboxes cannot resume; half-done operations have nothing to finish.
            assertThat(store.sandbox(paused.id()).orElseThrow().status()).isEqualTo(SandboxStatus.ERROR);
            assertThat(store.sandbox(paused.id()).orElseThrow().failure()).contains("snapshot is gone");
            assertThat(store.sandbox(pausing.id()).orElseThrow().status()).isEqualTo(SandboxStatus.ERROR);
            assertThat(store.sandbox(resuming.id()).orElseThrow().status()).isEqualTo(SandboxStatus.ERROR);
            assertThat(store.sandbox(forking.id()).orElseThrow().status()).isEqualTo(SandboxStatus.FAILED);
        }
    }

    private static SandboxRecord row(User user, String name, SandboxStatus status, Instant now) {
        return new SandboxRecord("sb_" + Ulid.next(), user.id(), name, status, "s-1vcpu-256mb", "devbox:1", 1, 256,
                10240, null, null, false, null, Map.of(), List.of(), List.of(), 1, null, now, null, null, null,
                user.email());
    }
}
