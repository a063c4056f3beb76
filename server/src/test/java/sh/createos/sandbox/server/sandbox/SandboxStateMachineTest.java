package sh.createos.sandbox.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.User;

class SandboxStateMachineTest {
    @TempDir
    Path dir;
    private JdbcStore store;
    private SandboxStateMachine states;
    private SandboxRecord row;

    @BeforeEach
    void setUp() {
        store = JdbcStore.sqlite(dir.resolve("control.db"));
        states = new SandboxStateMachine(store);
        User user = new User("u_" + Ulid.next(), "sm@example.com", 5, Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        store.createUser(user);
        row = new SandboxRecord("sb_" + Ulid.next(), user.id(), "sm", SandboxStatus.CREATING, "s-1vcpu-256mb",
                "devbox:1", 1, 256, 10240, null, null, false, null, Map.of(), List.of(), List.of(), 1, null,
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), null, null, null, user.email());
        store.insertSandbox(row);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    @Test
    void aTransitionIsPersistedWithItsChanges() {
        SandboxRecord running = states.transition(row, SandboxStatus.RUNNING, r -> r.withRunning(null, "local", 5L,
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
        assertThat(store.sandbox(row.id())).contains(running);
        assertThat(running.status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(running.spawnMs()).isEqualTo(5);
    }

    @Test
    void aTransitionTheLifecycleDoesNotHaveIs409AndChangesNothing() {
        assertThatThrownBy(() -> states.transition(row, SandboxStatus.PAUSED))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_STATE));
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(SandboxStatus.CREATING);
        assertThat(SandboxStateMachine.allowed(SandboxStatus.DESTROYED, SandboxStatus.RUNNING)).isFalse();
        assertThat(SandboxStateMachine.allowed(SandboxStatus.FAILED, SandboxStatus.RUNNING)).isFalse();
    }

    @Test
    void aStaleRowLosesTheRace() {
        states.transition(row, SandboxStatus.DESTROYING);
        assertThatThrownBy(() -> states.transition(row, SandboxStatus.RUNNING))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_STATE);
                    assertThat(e.getMessage()).contains("now destroying");
                });
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(SandboxStatus.DESTROYING);
    }

    @Test
    void updateKeepsTheStatusAndRequiresIt() {
        assertThatThrownBy(() -> states.update(row, SandboxStatus.RUNNING, r -> r.withDiskMib(20000)))
                .isInstanceOf(DomainException.class);
        SandboxRecord running = states.transition(row, SandboxStatus.RUNNING);
        SandboxRecord grown = states.update(running, SandboxStatus.RUNNING, r -> r.withDiskMib(20000));
        assertThat(store.sandbox(row.id())).contains(grown);
        assertThat(grown.status()).isEqualTo(SandboxStatus.RUNNING);
    }
}
