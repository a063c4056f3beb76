package sh.createos.sandbox.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static sh.createos.sandbox.model.SandboxStatus.CREATING;
import static sh.createos.sandbox.model.SandboxStatus.DESTROYED;
import static sh.createos.sandbox.model.SandboxStatus.DESTROYING;
import static sh.createos.sandbox.model.SandboxStatus.ERROR;
import static sh.createos.sandbox.model.SandboxStatus.FAILED;
import static sh.createos.sandbox.model.SandboxStatus.FORKING;
import static sh.createos.sandbox.model.SandboxStatus.PAUSED;
import static sh.createos.sandbox.model.SandboxStatus.PAUSING;
import static sh.createos.sandbox.model.SandboxStatus.RESUMING;
import static sh.createos.sandbox.model.SandboxStatus.RUNNING;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.lifecycle.AutoPauseLimits;
import sh.createos.sandbox.server.store.JdbcStore;
import sh.createos.sandbox.server.store.SandboxRecord;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/**
 * The reconciler through every transitional state, against an in-memory {@link FakeHost} that holds (or not) a
 * running VM and a snapshot of each row, and the lifecycle's interleavings with a step of the host held at a gate.
 * Milliseconds each; the real-VM tests ({@code PauseRecoveryTest}, {@code ReconcileTest}) stay beside these.
 */
class ReconcilerTableTest {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    @TempDir
    static Path dir;
    /** One database for the class (the rows of each case are its own): the cases themselves take milliseconds. */
    private static Store store;
    private FakeHost host;
    private User user;

    @BeforeAll
    static void openStore() {
        store = JdbcStore.sqlite(dir.resolve("control.db"));
    }

    @AfterAll
    static void closeStore() {
        store.close();
    }

    @BeforeEach
    void setUp() {
        host = new FakeHost();
        user = new User("u_" + Ulid.next(), Ulid.next().toLowerCase() + "@example.com", 5, NOW);
        store.createUser(user);
    }

    /** row state, VM alive on the host, snapshot on the host → row state after, VM left, snapshot left. */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of(CREATING, true, false, FAILED, false, false),
                Arguments.of(CREATING, false, false, FAILED, false, false),
                Arguments.of(DESTROYING, true, true, DESTROYED, false, false),
                Arguments.of(DESTROYING, false, false, DESTROYED, false, false),
                Arguments.of(RUNNING, true, false, RUNNING, true, false),
                Arguments.of(RUNNING, false, false, FAILED, false, false),
                Arguments.of(PAUSING, true, true, PAUSED, false, true),
                Arguments.of(PAUSING, false, true, PAUSED, false, true),
                Arguments.of(PAUSING, true, false, RUNNING, true, false),
                Arguments.of(PAUSING, false, false, ERROR, false, false),
                Arguments.of(RESUMING, true, true, RUNNING, true, false),
                Arguments.of(RESUMING, true, false, RUNNING, true, false),
                Arguments.of(RESUMING, false, true, PAUSED, false, true),
                Arguments.of(RESUMING, false, false, ERROR, false, false),
                Arguments.of(FORKING, true, false, RUNNING, true, false),
                Arguments.of(FORKING, false, true, PAUSED, false, true),
                Arguments.of(FORKING, false, false, FAILED, false, false),
                Arguments.of(PAUSED, false, true, PAUSED, false, true),
                Arguments.of(PAUSED, true, true, PAUSED, false, true),
                Arguments.of(PAUSED, false, false, ERROR, false, false));
    }

    @ParameterizedTest(name = "{0} vm={1} snapshot={2} -> {3}")
    @MethodSource("table")
    void reconcileFinishesOrRollsBackEachState(SandboxStatus before, boolean vm, boolean snapshot,
            SandboxStatus after, boolean vmLeft, boolean snapshotLeft) throws Exception {
        SandboxRecord row = insert(before);
        if (vm) {
            host.running.add(row.id());
        }
        if (snapshot) {
            host.snapshots.put(row.id(), NOW);
        }
        new Reconciler(store, host, new SandboxStateMachine(store), new RowClaims(store, "cp_test")).run();

        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(after);
        assertThat(host.isRunning(row.id())).as("VM held after reconcile").isEqualTo(vmLeft);
        assertThat(host.running.contains(row.id())).as("VM left on the host").isEqualTo(vmLeft);
        assertThat(host.snapshots.containsKey(row.id())).as("snapshot left").isEqualTo(snapshotLeft);
        if (before == CREATING || (before == FORKING && after == FAILED)) {
            assertThat(host.discarded).contains(row.id());
        }
        assertThat(store.claim(row.id(), "cp_other", Instant.now(), Instant.now().plusSeconds(1)))
                .as("the claim is given back").isTrue();
    }

    @Test
    void orphansGoAndAnotherReplicasClaimedRowIsLeftAlone() throws Exception {
        SandboxRecord claimed = insert(PAUSING);
        host.running.add(claimed.id());
        host.running.add("sb_ORPHANVM");
        host.snapshots.put("sb_ORPHANSNAP", NOW);
        assertThat(store.claim(claimed.id(), "cp_busy", Instant.now(), Instant.now().plusSeconds(60))).isTrue();

        new Reconciler(store, host, new SandboxStateMachine(store), new RowClaims(store, "cp_test")).run();

        assertThat(store.sandbox(claimed.id()).orElseThrow().status()).isEqualTo(PAUSING);
        assertThat(host.running).containsExactly(claimed.id());
        assertThat(host.snapshots).isEmpty();
        assertThat(host.calls).doesNotContain("adopt " + claimed.id(), "destroyVm " + claimed.id());
    }

    @Test
    void rowsOfAHostThatDoesNotAnswerAreLeftAsTheyAre() throws Exception {
        SandboxRecord running = insert(RUNNING);
        SandboxRecord pausing = insert(PAUSING);
        host.answering = java.util.Set.of();

        new Reconciler(store, host, new SandboxStateMachine(store), new RowClaims(store, "cp_test")).run();

        assertThat(store.sandbox(running.id()).orElseThrow().status()).isEqualTo(RUNNING);
        assertThat(store.sandbox(pausing.id()).orElseThrow().status()).isEqualTo(PAUSING);
        assertThat(host.calls).isEmpty();
    }

    @Test
    void aDeleteWhilePausingEndsDestroyedAndTheSnapshotIsReclaimed() throws Exception {
        SandboxService service = new SandboxService(store, host, new AutoPauseLimits(2, 86400));
        SandboxRecord row = insert(RUNNING);
        host.running.add(row.id());
        FakeHost.Gate pause = host.gate("pause");
        CompletableFuture<SandboxRecord> pausing = CompletableFuture.supplyAsync(() -> service.pause(user, row.id()));
        pause.awaitReached();
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(PAUSING);

        assertThat(service.destroy(user, row.id())).isEqualTo(DESTROYING);
        pause.release.countDown();

        assertThatThrownBy(() -> pausing.get(10, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(
                DomainException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_STATE));
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(DESTROYED);
        assertThat(host.snapshots).doesNotContainKey(row.id());
        assertThat(host.running).doesNotContain(row.id());
    }

    @Test
    void aFailedPauseOfALiveVmRollsBackToRunning() throws Exception {
        SandboxService service = new SandboxService(store, host, new AutoPauseLimits(2, 86400));
        SandboxRecord row = insert(RUNNING);
        host.running.add(row.id());
        FakeHost.Gate pause = host.gate("pause");
        pause.failure = new java.io.IOException("migrate failed");
        pause.release.countDown();
        assertThatThrownBy(() -> service.pause(user, row.id())).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PAUSE_FAILED));
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(RUNNING);
        assertThat(host.running).contains(row.id());
    }

    @Test
    void aResumeHeldAtTheHostIsVisibleAsResumingThenRunning() throws Exception {
        SandboxService service = new SandboxService(store, host, new AutoPauseLimits(2, 86400));
        SandboxRecord row = insert(PAUSED);
        host.snapshots.put(row.id(), NOW);
        FakeHost.Gate resume = host.gate("resume");
        CompletableFuture<SandboxRecord> resuming = CompletableFuture.supplyAsync(() -> service.resume(user, row.id()));
        resume.awaitReached();
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(RESUMING);
        assertThatThrownBy(() -> service.running(user, row.id())).isInstanceOfSatisfying(DomainException.class,
                e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_STATE));
        resume.release.countDown();
        assertThat(resuming.get(10, TimeUnit.SECONDS).status()).isEqualTo(RUNNING);
        assertThat(host.running).contains(row.id());
    }

    @Test
    void aVmThatExitsOnItsOwnTurnsItsRowErrorAndReleasesItsLease() throws Exception {
        SandboxService service = new SandboxService(store, host, new AutoPauseLimits(2, 86400));
        SandboxRecord row = insert(RUNNING);
        host.running.add(row.id());
        host.leases.put(row.id(), "10.0.0.2");

        host.kill(row.id());

        SandboxRecord after = store.sandbox(row.id()).orElseThrow();
        assertThat(after.status()).isEqualTo(ERROR);
        assertThat(after.failure()).contains("exited unexpectedly");
        assertThat(host.leases).doesNotContainKey(row.id());
        assertThat(service.destroy(user, row.id())).isEqualTo(DESTROYING);
    }

    @Test
    void anExitReportedForARowThatIsPausingIsLeftToThePause() {
        new SandboxService(store, host, new AutoPauseLimits(2, 86400));
        SandboxRecord row = insert(PAUSING);
        host.leases.put(row.id(), "10.0.0.2");
        host.kill(row.id());
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(PAUSING);
        assertThat(host.leases).containsKey(row.id());
    }

    private SandboxRecord insert(SandboxStatus status) {
        SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), user.id(), "t-" + Ulid.next().toLowerCase(),
                status, "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, host.id(), false, null, Map.of(), List.of(),
                List.of(), 1, null, NOW, null, null, null, user.email());
        store.insertSandbox(row);
        return row;
    }
}
