package sh.createos.sandbox.server.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import sh.createos.sandbox.model.SandboxStatus;

/** Durable state of the control plane: users, API keys, sandbox rows, private networks and their members. */
public interface Store extends AutoCloseable {

    void createUser(User user);

    Optional<User> user(String id);

    Optional<User> userByEmail(String email);

    List<User> users();

    void createApiKey(ApiKey key);

    Optional<ApiKey> apiKeyByHash(String keyHash);

    /** @return false when no such key exists or it was already revoked */
    boolean revokeApiKey(String keyId, Instant at);

    /** Every key of the user, revoked ones included, oldest first. */
    List<ApiKey> apiKeys(String userId);

    /**
     * Inserts {@code key} unless its user already has {@code activeLimit} unrevoked keys, serialised per user like
     * {@link #insertSandboxWithin}.
     *
     * @return false when the limit is reached (nothing inserted)
     */
    boolean createApiKeyWithin(ApiKey key, int activeLimit);

    /**
     * Revokes the user's own key, but never the user's last active one; serialised per user, so two concurrent
     * revocations of a user's two last keys cannot both succeed.
     */
    KeyRevocation revokeOwnApiKey(String userId, String keyId, Instant at);

    /** @throws NameTakenException when the user already has a live sandbox of that name */
    void insertSandbox(SandboxRecord sandbox);

    /**
     * Inserts {@code sandbox} unless its user already has {@code liveLimit} live (not destroyed, not failed)
     * sandboxes, as one transaction that the database serialises per user (PostgreSQL: the user's row locked
     * {@code FOR UPDATE}; SQLite: its single writer), so concurrent creates on any replica never pass the cap.
     *
     * @return false when the cap is reached (nothing inserted)
     * @throws NameTakenException when the user already has a live sandbox of that name
     */
    boolean insertSandboxWithin(SandboxRecord sandbox, int liveLimit);

    /**
     * A row lease: {@code owner} (a control-plane replica) may act on the row until {@code until}. Taken when the
     * row is unclaimed, already {@code owner}'s, or its lease ran out, in one statement, so of several replicas
     * exactly one gets it. Reconcile and idle auto-pause act only on rows they claimed.
     */
    boolean claim(String sandboxId, String owner, Instant now, Instant until);

    /**
     * Takes the row only when a claim on it ran out (a replica that died holding it, or a sweep that left it for
     * the next one); an unclaimed row is left alone (it may be a live create between its insert and its claim).
     */
    boolean claimLapsed(String sandboxId, String owner, Instant now, Instant until);

    /** Gives a claim back (a no-op unless {@code owner} holds it). */
    void unclaim(String sandboxId, String owner);

    /**
     * Runs {@code work} in one database transaction: every store call it makes on this thread joins it; it commits
     * when {@code work} returns and rolls back when it throws. Nested calls join the outer transaction.
     */
    <T> T inTransaction(java.util.function.Supplier<T> work);

    default void inTransaction(Runnable work) {
        inTransaction(() -> {
            work.run();
            return null;
        });
    }

    Optional<SandboxRecord> sandbox(String id);

    /** The user's non-destroyed sandbox with that IP. */
    Optional<SandboxRecord> sandboxByIp(String userId, String ip);

    /**
     * A page of the user's sandboxes in id (= creation) order: those in {@code status}, or every one that is not
     * destroyed when {@code status} is null.
     */
    List<SandboxRecord> sandboxes(String userId, SandboxStatus status, int limit, int offset);

    long countSandboxes(String userId, SandboxStatus status);

    Map<SandboxStatus, Long> countByStatus(String userId);

    /** Every user's sandboxes in these states, for reconciliation at start. */
    List<SandboxRecord> sandboxesIn(Collection<SandboxStatus> statuses);

    /**
     * Writes {@code updated} if the row is still in {@code expected} (compare-and-set on the status).
     *
     * @return false when the row changed state meanwhile
     */
    boolean updateSandbox(SandboxRecord updated, SandboxStatus expected);

    /** @throws NameTakenException when the user already has a network of that name */
    void insertNetwork(NetworkRecord network);

    Optional<NetworkRecord> network(String id);

    /** A page of the user's networks in id (= creation) order. */
    List<NetworkRecord> networks(String userId, int limit, int offset);

    long countNetworks(String userId);

    void setNetworkCidr(String networkId, String cidr);

    /** Removes the network and every membership row it still has. */
    boolean deleteNetwork(String networkId);

    /** Every membership of the sandbox (it is gone). @return how many */
    int deleteMemberships(String sandboxId);

    /** @return false when the sandbox already is a member */
    boolean insertMember(String networkId, String sandboxId, Instant attachedAt);

    void setMemberIp(String networkId, String sandboxId, String ip);

    boolean deleteMember(String networkId, String sandboxId);

    /** The network's members in sandbox id order, with their sandboxes' current name and status. */
    List<NetworkMemberRecord> members(String networkId);

    /** The sandbox's memberships in network id order. */
    List<NetworkMemberRecord> memberships(String sandboxId);

    @Override
    void close();

    /** @return false when the sandbox already has a token (nothing changed) */
    boolean insertAccessToken(AccessTokenRecord token);

    /** Replaces the sandbox's token (rotate); @return false when it has none */
    boolean replaceAccessToken(AccessTokenRecord token);

    Optional<AccessTokenRecord> accessToken(String sandboxId);

    Optional<AccessTokenRecord> accessTokenByHash(String tokenHash);

    /** @return false when the sandbox had no token */
    boolean deleteAccessToken(String sandboxId);
}
