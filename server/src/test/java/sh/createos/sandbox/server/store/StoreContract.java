package sh.createos.sandbox.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;

/** The behaviour every {@link Store} must have; subclasses provide the database. */
abstract class StoreContract {
    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private Store store;
    private User alice;
    private User bob;

    abstract Store openStore() throws Exception;

    /** A second store over the same database, as another control-plane replica would open it. */
    abstract Store openReplica() throws Exception;

    @BeforeEach
    void setUp() throws Exception {
        store = openStore();
        alice = new User("u_" + Ulid.next(), "alice@example.com", 5, NOW);
        bob = new User("u_" + Ulid.next(), "bob@example.com", 5, NOW);
        store.createUser(alice);
        store.createUser(bob);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    @Test
    void usersRoundTrip() {
        assertThat(store.user(alice.id())).contains(alice);
        assertThat(store.userByEmail("bob@example.com")).contains(bob);
        assertThat(store.users()).containsExactly(alice, bob);
        assertThat(store.user("u_missing")).isEmpty();
    }

    @Test
    void apiKeysAreFoundByHashAndRevokedOnce() {
        ApiKey key = new ApiKey("key_" + Ulid.next(), alice.id(), "a".repeat(64), "sk_abcd", NOW, null);
        store.createApiKey(key);
        assertThat(store.apiKeyByHash("a".repeat(64))).contains(key);
        assertThat(store.revokeApiKey(key.id(), NOW)).isTrue();
        assertThat(store.revokeApiKey(key.id(), NOW)).isFalse();
        assertThat(store.apiKeyByHash("a".repeat(64)).orElseThrow().revoked()).isTrue();
        assertThat(store.revokeApiKey("key_missing", NOW)).isFalse();
    }

    @Test
    void aUsersKeysAreListedWithTheirNamesAndCappedWhileActive() {
        ApiKey named = key(alice, "b".repeat(64), "laptop");
        ApiKey bare = key(alice, "c".repeat(64), null);
        assertThat(store.createApiKeyWithin(named, 2)).isTrue();
        assertThat(store.createApiKeyWithin(bare, 2)).isTrue();
        assertThat(store.createApiKeyWithin(key(alice, "d".repeat(64), null), 2)).isFalse();
        assertThat(store.createApiKeyWithin(key(bob, "e".repeat(64), null), 2)).isTrue();
        assertThat(store.apiKeys(alice.id())).containsExactly(named, bare);
        assertThat(store.apiKeyByHash("d".repeat(64))).isEmpty();
        assertThat(store.revokeOwnApiKey(alice.id(), bare.id(), NOW)).isEqualTo(KeyRevocation.REVOKED);
        assertThat(store.createApiKeyWithin(key(alice, "d".repeat(64), null), 2)).isTrue();
        assertThat(store.apiKeys(alice.id())).hasSize(3);
    }

    @Test
    void revokingOwnKeysSparesTheLastActiveOneAndOtherUsersKeys() {
        ApiKey first = key(alice, "f".repeat(64), null);
        ApiKey second = key(alice, "0".repeat(64), null);
        ApiKey bobs = key(bob, "1".repeat(64), null);
        store.createApiKey(first);
        store.createApiKey(second);
        store.createApiKey(bobs);
        assertThat(store.revokeOwnApiKey(alice.id(), bobs.id(), NOW)).isEqualTo(KeyRevocation.NOT_FOUND);
        assertThat(store.revokeOwnApiKey(alice.id(), "key_missing", NOW)).isEqualTo(KeyRevocation.NOT_FOUND);
        assertThat(store.revokeOwnApiKey(bob.id(), bobs.id(), NOW)).isEqualTo(KeyRevocation.LAST_ACTIVE_KEY);
        assertThat(store.revokeOwnApiKey(alice.id(), first.id(), NOW)).isEqualTo(KeyRevocation.REVOKED);
        assertThat(store.revokeOwnApiKey(alice.id(), first.id(), NOW)).isEqualTo(KeyRevocation.ALREADY_REVOKED);
        assertThat(store.revokeOwnApiKey(alice.id(), second.id(), NOW)).isEqualTo(KeyRevocation.LAST_ACTIVE_KEY);
        assertThat(store.apiKeyByHash("0".repeat(64)).orElseThrow().revoked()).isFalse();
        assertThat(store.apiKeyByHash("1".repeat(64)).orElseThrow().revoked()).isFalse();
    }

    /** Two replicas revoking a user's two last keys at once: one wins, the other is refused, one key is left. */
    @Test
    void concurrentRevocationsOfTheLastTwoKeysLeaveOne() throws Exception {
        try (Store replica = openReplica()) {
            for (int round = 0; round < 10; round++) {
                User user = new User("u_" + Ulid.next(), "race" + round + "@example.com", 5, NOW);
                store.createUser(user);
                ApiKey a = key(user, Ulid.next().toLowerCase() + "a".repeat(38), null);
                ApiKey b = key(user, Ulid.next().toLowerCase() + "b".repeat(38), null);
                store.createApiKey(a);
                store.createApiKey(b);
                CountDownLatch go = new CountDownLatch(1);
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    Future<KeyRevocation> one = pool.submit(() -> { go.await(); return store.revokeOwnApiKey(user.id(), a.id(), NOW); });
                    Future<KeyRevocation> two = pool.submit(() -> { go.await(); return replica.revokeOwnApiKey(user.id(), b.id(), NOW); });
                    go.countDown();
                    assertThat(List.of(one.get(30, TimeUnit.SECONDS), two.get(30, TimeUnit.SECONDS)))
                            .containsExactlyInAnyOrder(KeyRevocation.REVOKED, KeyRevocation.LAST_ACTIVE_KEY);
                } finally {
                    pool.shutdownNow();
                }
                assertThat(store.apiKeys(user.id()).stream().filter(k -> !k.revoked())).hasSize(1);
            }
        }
    }

    private static ApiKey key(User owner, String hash, String name) {
        return new ApiKey("key_" + Ulid.next(), owner.id(), hash, "sk_" + hash.substring(0, 5), NOW, null, name);
    }

    @Test
    void sandboxRowRoundTripsEveryColumn() {
        SandboxRecord row = sandbox(alice, "full", SandboxStatus.RUNNING)
                .withRunning("10.0.0.2", "local", 1234L, NOW)
                .withSettings(true, 300)
                .withFailure("none")
                .withDestroyedAt(NOW);
        store.insertSandbox(row);
        assertThat(store.sandbox(row.id())).contains(row);
        SandboxRecord sparse = sandbox(alice, "sparse", SandboxStatus.CREATING);
        store.insertSandbox(sparse);
        assertThat(store.sandbox(sparse.id())).contains(sparse);
    }

    @Test
    void pauseAndForkColumnsRoundTripOnInsertAndUpdate() {
        SandboxRecord source = sandbox(alice, "source", SandboxStatus.PAUSED).withPausedAt(NOW);
        store.insertSandbox(source);
        SandboxRecord child = new SandboxRecord("sb_" + Ulid.next(), alice.id(), "child", SandboxStatus.FORKING,
                "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, null, false, null, Map.of(), List.of(), List.of(), 1,
                null, NOW, null, null, null, alice.email(), source.id(), null, null);
        store.insertSandbox(child);
        assertThat(store.sandbox(source.id())).contains(source);
        assertThat(store.sandbox(child.id())).contains(child);
        SandboxRecord resumed = source.withStatus(SandboxStatus.RUNNING).withResumed(77L, NOW.plusSeconds(5));
        assertThat(store.updateSandbox(resumed, SandboxStatus.PAUSED)).isTrue();
        assertThat(store.sandbox(source.id())).contains(resumed);
        assertThat(resumed.lastResumedAt()).isEqualTo(resumed.runningAt()).isEqualTo(NOW.plusSeconds(5));
        assertThat(resumed.pausedAt()).isEqualTo(NOW);
    }

    @Test
    void liveNamesAreUniquePerUserButFreedByDestroy() {
        SandboxRecord first = sandbox(alice, "web", SandboxStatus.RUNNING);
        store.insertSandbox(first);
        assertThatThrownBy(() -> store.insertSandbox(sandbox(alice, "web", SandboxStatus.CREATING)))
                .isInstanceOf(NameTakenException.class);
        assertThatThrownBy(() -> store.insertSandbox(sandbox(alice, "Web", SandboxStatus.CREATING)))
                .as("names are unique ignoring case, as DNS matches them").isInstanceOf(NameTakenException.class);
        store.insertSandbox(sandbox(bob, "web", SandboxStatus.CREATING));
        assertThat(store.updateSandbox(first.withStatus(SandboxStatus.DESTROYED), SandboxStatus.RUNNING)).isTrue();
        store.insertSandbox(sandbox(alice, "web", SandboxStatus.CREATING));
    }

    @Test
    void updateIsACompareAndSetOnStatus() {
        SandboxRecord row = sandbox(alice, "cas", SandboxStatus.CREATING);
        store.insertSandbox(row);
        assertThat(store.updateSandbox(row.withStatus(SandboxStatus.RUNNING), SandboxStatus.CREATING)).isTrue();
        assertThat(store.updateSandbox(row.withStatus(SandboxStatus.FAILED), SandboxStatus.CREATING)).isFalse();
        assertThat(store.sandbox(row.id()).orElseThrow().status()).isEqualTo(SandboxStatus.RUNNING);
    }

    @Test
    void listingPagesInIdOrderAndHidesDestroyedUnlessAsked() {
        for (int i = 0; i < 7; i++) {
            store.insertSandbox(sandbox(alice, "s" + i, i == 3 ? SandboxStatus.DESTROYED : SandboxStatus.RUNNING));
        }
        store.insertSandbox(sandbox(bob, "other", SandboxStatus.RUNNING));
        assertThat(store.countSandboxes(alice.id(), null)).isEqualTo(6);
        List<String> names = new java.util.ArrayList<>();
        for (int offset = 0; offset < 6; offset += 4) {
            store.sandboxes(alice.id(), null, 4, offset).forEach(s -> names.add(s.name()));
        }
        assertThat(names).containsExactly("s0", "s1", "s2", "s4", "s5", "s6");
        assertThat(store.sandboxes(alice.id(), SandboxStatus.DESTROYED, 10, 0))
                .extracting(SandboxRecord::name).containsExactly("s3");
        assertThat(store.countSandboxes(alice.id(), SandboxStatus.DESTROYED)).isEqualTo(1);
        assertThat(store.countByStatus(alice.id()))
                .isEqualTo(Map.of(SandboxStatus.RUNNING, 6L, SandboxStatus.DESTROYED, 1L));
        assertThat(store.sandboxesIn(List.of(SandboxStatus.DESTROYED))).hasSize(1);
    }

    @Test
    void byIpIsScopedToTheUserAndIgnoresDestroyedRows() {
        SandboxRecord old = sandbox(alice, "old", SandboxStatus.DESTROYED).withRunning("10.0.0.9", "local", 1L, NOW);
        SandboxRecord live = sandbox(alice, "live", SandboxStatus.RUNNING).withRunning("10.0.0.9", "local", 1L, NOW);
        store.insertSandbox(old);
        store.insertSandbox(live);
        assertThat(store.sandboxByIp(alice.id(), "10.0.0.9")).contains(live);
        assertThat(store.sandboxByIp(bob.id(), "10.0.0.9")).isEmpty();
    }

    @Test
    void networksAndTheirMembersRoundTrip() {
        NetworkRecord net = new NetworkRecord("net_" + Ulid.next(), alice.id(), "team-net", null, NOW);
        store.insertNetwork(net);
        assertThatThrownBy(() -> store.insertNetwork(new NetworkRecord("net_" + Ulid.next(), alice.id(), "team-net",
                null, NOW))).isInstanceOf(NameTakenException.class);
        assertThatThrownBy(() -> store.insertNetwork(new NetworkRecord("net_" + Ulid.next(), alice.id(), "Team-Net",
                null, NOW))).isInstanceOf(NameTakenException.class);
        store.insertNetwork(new NetworkRecord("net_" + Ulid.next(), bob.id(), "team-net", null, NOW));
        store.setNetworkCidr(net.id(), "10.201.0.0/24");
        NetworkRecord withCidr = new NetworkRecord(net.id(), alice.id(), "team-net", "10.201.0.0/24", NOW);
        assertThat(store.network(net.id())).contains(withCidr);
        assertThat(store.networks(alice.id(), 10, 0)).containsExactly(withCidr);
        assertThat(store.countNetworks(alice.id())).isEqualTo(1);

        SandboxRecord a = sandbox(alice, "node-a", SandboxStatus.RUNNING);
        SandboxRecord b = sandbox(alice, "node-b", SandboxStatus.DESTROYED);
        store.insertSandbox(a);
        store.insertSandbox(b);
        assertThat(store.insertMember(net.id(), a.id(), NOW)).isTrue();
        assertThat(store.insertMember(net.id(), a.id(), NOW)).isFalse();
        assertThat(store.insertMember(net.id(), b.id(), NOW)).isTrue();
        store.setMemberIp(net.id(), a.id(), "10.201.0.2");
        assertThat(store.members(net.id())).containsExactlyInAnyOrder(
                new NetworkMemberRecord(net.id(), a.id(), "node-a", SandboxStatus.RUNNING, "10.201.0.2", NOW),
                new NetworkMemberRecord(net.id(), b.id(), "node-b", SandboxStatus.DESTROYED, null, NOW));
        assertThat(store.memberships(a.id())).extracting(NetworkMemberRecord::networkId).containsExactly(net.id());
        assertThat(store.deleteMember(net.id(), b.id())).isTrue();
        assertThat(store.deleteMember(net.id(), b.id())).isFalse();
        assertThat(store.deleteNetwork(net.id())).isTrue();
        assertThat(store.network(net.id())).isEmpty();
        assertThat(store.memberships(a.id())).isEmpty();
        assertThat(store.deleteNetwork(net.id())).isFalse();
    }

    @Test
    void theLiveSandboxCapHoldsUnderConcurrentInsertsFromTwoReplicas() throws Exception {
        store.insertSandbox(sandbox(alice, "gone", SandboxStatus.DESTROYED));
        store.insertSandbox(sandbox(alice, "broken", SandboxStatus.FAILED));
        store.insertSandbox(sandbox(alice, "one", SandboxStatus.PAUSED));
        try (Store replica = openReplica()) {
            int attempts = 24;
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(attempts)) {
                for (int i = 0; i < attempts; i++) {
                    Store writer = i % 2 == 0 ? store : replica;
                    SandboxRecord row = sandbox(alice, "c" + i, SandboxStatus.CREATING);
                    results.add(pool.submit(() -> {
                        go.await();
                        return writer.insertSandboxWithin(row, alice.sandboxLimit());
                    }));
                }
                go.countDown();
                long admitted = 0;
                for (Future<Boolean> result : results) {
                    admitted += result.get(60, TimeUnit.SECONDS) ? 1 : 0;
                }
                // alice's cap is 5 and one paused sandbox is live already; destroyed and failed ones do not count.
                assertThat(admitted).isEqualTo(4);
            }
        }
        assertThat(store.countSandboxes(alice.id(), SandboxStatus.CREATING)).isEqualTo(4);
        assertThat(store.insertSandboxWithin(sandbox(bob, "b", SandboxStatus.CREATING), bob.sandboxLimit())).isTrue();
    }

    @Test
    void aRowClaimGoesToExactlyOneReplicaUntilItLapsesOrIsGivenBack() throws Exception {
        SandboxRecord row = sandbox(alice, "claimed", SandboxStatus.PAUSING);
        store.insertSandbox(row);
        Instant until = NOW.plusSeconds(60);
        try (Store replica = openReplica()) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                for (int i = 0; i < 16; i++) {
                    Store claimer = i % 2 == 0 ? store : replica;
                    String owner = "cp_" + i;
                    results.add(pool.submit(() -> {
                        go.await();
                        return claimer.claim(row.id(), owner, NOW, until);
                    }));
                }
                go.countDown();
                long won = 0;
                for (Future<Boolean> result : results) {
                    won += result.get(60, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertThat(won).isEqualTo(1);
            }
            assertThat(replica.claim(row.id(), "cp_late", NOW.plusSeconds(59), NOW.plusSeconds(120))).isFalse();
            assertThat(replica.claim(row.id(), "cp_late", NOW.plusSeconds(61), NOW.plusSeconds(120))).isTrue();
            assertThat(store.claim(row.id(), "cp_late", NOW.plusSeconds(62), NOW.plusSeconds(130))).isTrue();
            store.unclaim(row.id(), "cp_other");
            assertThat(store.claim(row.id(), "cp_x", NOW.plusSeconds(63), NOW.plusSeconds(130))).isFalse();
            store.unclaim(row.id(), "cp_late");
            assertThat(store.claim(row.id(), "cp_x", NOW.plusSeconds(63), NOW.plusSeconds(130))).isTrue();
        }
        assertThat(store.sandbox(row.id())).contains(row);
    }

    @Test
    void aTransactionCommitsEveryStatementOrNone() {
        SandboxRecord row = sandbox(alice, "tx", SandboxStatus.RUNNING);
        NetworkRecord net = new NetworkRecord("net_" + Ulid.next(), alice.id(), "tx-net", null, NOW);
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.insertSandbox(row);
            store.insertNetwork(net);
            assertThat(store.sandbox(row.id())).contains(row); // visible inside its own transaction
            throw new IllegalStateException("the engine failed");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(store.sandbox(row.id())).isEmpty();
        assertThat(store.network(net.id())).isEmpty();

        store.inTransaction(() -> {
            store.insertSandbox(row);
            store.insertNetwork(net);
            store.insertMember(net.id(), row.id(), NOW);
        });
        assertThat(store.sandbox(row.id())).contains(row);
        assertThat(store.memberships(row.id())).hasSize(1);
        store.inTransaction(() -> {
            assertThat(store.deleteMemberships(row.id())).isEqualTo(1);
            assertThat(store.updateSandbox(row.withStatus(SandboxStatus.DESTROYED), SandboxStatus.RUNNING)).isTrue();
        });
        assertThat(store.memberships(row.id())).isEmpty();
    }

    private static SandboxRecord sandbox(User owner, String name, SandboxStatus status) {
        return new SandboxRecord("sb_" + Ulid.next(), owner.id(), name, status, "s-1vcpu-256mb", "devbox:1", 1, 256,
                10240, null, null, false, null, Map.of("TOKEN", "secret"), List.of(), List.of("ssh-ed25519 AAAA"),
                10737418240L, null, NOW, null, null, null, owner.email());
    }
}
