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

    /** @throws NameTakenException when the user already has a live sandbox of that name */
    void insertSandbox(SandboxRecord sandbox);

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
