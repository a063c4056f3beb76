package sh.createos.sandbox.server.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.secrets.SecretBox;

/** {@link Store} over JDBC: SQLite (the embedded default) or PostgreSQL, schema by Flyway migrations. */
public final class JdbcStore implements Store {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SANDBOX_COLUMNS = "id, user_id, name, status, shape, rootfs, vcpu, mem_mib, "
            + "disk_mib, ip, host_id, ingress_enabled, auto_pause_after_seconds, envs, egress, ssh_pubkeys, "
            + "bandwidth_quota_bytes, spawn_ms, created_at, running_at, destroyed_at, failure, created_by, forked_from, "
            + "paused_at, last_resumed_at";

    private final HikariDataSource pool;
    private final boolean postgres;
    /** The connection of the transaction this thread is in, if any: every statement on the thread joins it. */
    private final ThreadLocal<Connection> transaction = new ThreadLocal<>();
    /** Seals the envs column (null: clear text, for stores opened by tools and tests without a key). */
    private volatile SecretBox envSeal;

    private JdbcStore(String url, Properties properties) {
        this.postgres = url.startsWith("jdbc:postgresql:");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setDataSourceProperties(properties);
        config.setPoolName("store");
        // SQLite has one writer at a time anyway (WAL lets readers run beside it); PostgreSQL gets a real pool.
        config.setMaximumPoolSize(postgres ? 16 : 8);
        config.setMinimumIdle(1);
        this.pool = new HikariDataSource(config);
    }

    /** The connections, for stores of other tables in this database ({@link IdempotencyStore}). */
    javax.sql.DataSource pool() {
        return pool;
    }

    /** The default store: {@code <dataDir>/control.db} in WAL mode. */
    public static JdbcStore sqlite(Path dbFile) {
        return open("jdbc:sqlite:" + dbFile.toAbsolutePath());
    }

    /** Opens {@code jdbc:sqlite:…} or {@code jdbc:postgresql:…} and brings its schema up to date. */
    public static JdbcStore open(String url) {
        Properties properties = new Properties();
        if (url.startsWith("jdbc:sqlite:")) {
            properties.setProperty("journal_mode", "WAL");
            properties.setProperty("busy_timeout", "10000");
            properties.setProperty("foreign_keys", "true");
            // A transaction takes the write lock when it begins (BEGIN IMMEDIATE): one that reads and then writes
            // cannot fail with SQLITE_BUSY half-way, it waits (busy_timeout) for the writer before it.
            properties.setProperty("transaction_mode", "IMMEDIATE");
        } else if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("unsupported database URL (want jdbc:sqlite: or jdbc:postgresql:): "
                    + url);
        }
        Flyway.configure()
                .dataSource(url, null, null)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        return new JdbcStore(url, properties);
    }

    /**
     * From now on a sandbox's envs are stored sealed with {@code box} (their values are secrets: tokens, passwords),
     * bound to the row's id; rows written in clear text by an older version are sealed now.
     */
    public JdbcStore sealingEnvsWith(SecretBox box) {
        envSeal = box;
        record Clear(String id, String envs) {}
        for (Clear row : query("SELECT id, envs FROM sandboxes WHERE envs NOT LIKE 'v1:%'",
                rs -> new Clear(rs.getString("id"), rs.getString("envs")))) {
            update("UPDATE sandboxes SET envs = ? WHERE id = ? AND envs = ?", box.seal(row.envs(), envsData(row.id())),
                    row.id(), row.envs());
        }
        return this;
    }

    private String envsColumn(SandboxRecord s) {
        String json = toJson(s.envs());
        SecretBox box = envSeal;
        return box == null ? json : box.seal(json, envsData(s.id()));
    }

    private Map<String, String> envsOf(String id, String column) throws SQLException {
        String json = column;
        if (SecretBox.isSealed(column)) {
            SecretBox box = envSeal;
            if (box == null) {
                throw new SQLException("the envs of sandbox " + id + " are sealed and this store has no key");
            }
            json = box.open(column, envsData(id));
        }
        return fromJson(json, new TypeReference<Map<String, String>>() {});
    }

    private static String envsData(String sandboxId) {
        return "sandboxes.envs:" + sandboxId;
    }

    @Override
    public void createUser(User user) {
        update("INSERT INTO users (id, email, sandbox_limit, created_at) VALUES (?, ?, ?, ?)",
                user.id(), user.email(), user.sandboxLimit(), user.createdAt().toEpochMilli());
    }

    @Override
    public Optional<User> user(String id) {
        return queryOne("SELECT id, email, sandbox_limit, created_at FROM users WHERE id = ?", JdbcStore::toUser, id);
    }

    @Override
    public Optional<User> userByEmail(String email) {
        return queryOne("SELECT id, email, sandbox_limit, created_at FROM users WHERE email = ?",
                JdbcStore::toUser, email);
    }

    @Override
    public List<User> users() {
        return query("SELECT id, email, sandbox_limit, created_at FROM users ORDER BY id", JdbcStore::toUser);
    }

    @Override
    public void createApiKey(ApiKey key) {
        update("INSERT INTO api_keys (id, user_id, key_hash, prefix, created_at, revoked_at, name) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?)",
                key.id(), key.userId(), key.keyHash(), key.prefix(), key.createdAt().toEpochMilli(),
                millis(key.revokedAt()), key.name());
    }

    @Override
    public Optional<ApiKey> apiKeyByHash(String keyHash) {
        return queryOne("SELECT " + API_KEY_COLUMNS + " FROM api_keys WHERE key_hash = ?", JdbcStore::toApiKey,
                keyHash);
    }

    @Override
    public List<ApiKey> apiKeys(String userId) {
        return query("SELECT " + API_KEY_COLUMNS + " FROM api_keys WHERE user_id = ? ORDER BY id", JdbcStore::toApiKey,
                userId);
    }

    @Override
    public boolean createApiKeyWithin(ApiKey key, int activeLimit) {
        return inTransaction(() -> {
            lockUser(key.userId());
            if (activeApiKeys(key.userId()) >= activeLimit) {
                return false;
            }
            createApiKey(key);
            return true;
        });
    }

    @Override
    public KeyRevocation revokeOwnApiKey(String userId, String keyId, Instant at) {
        return inTransaction(() -> {
            lockUser(userId);
            Optional<ApiKey> key = queryOne("SELECT " + API_KEY_COLUMNS + " FROM api_keys WHERE id = ? AND user_id = ?",
                    JdbcStore::toApiKey, keyId, userId);
            if (key.isEmpty()) {
                return KeyRevocation.NOT_FOUND;
            }
            if (key.get().revoked()) {
                return KeyRevocation.ALREADY_REVOKED;
            }
            if (activeApiKeys(userId) <= 1) {
                return KeyRevocation.LAST_ACTIVE_KEY;
            }
            revokeApiKey(keyId, at);
            return KeyRevocation.REVOKED;
        });
    }

    /** Serialises one user's key changes across replicas; SQLite's transaction already holds the only write lock. */
    private void lockUser(String userId) {
        if (postgres) {
            query("SELECT id FROM users WHERE id = ? FOR UPDATE", rs -> rs.getString(1), userId);
        }
    }

    private long activeApiKeys(String userId) {
        return queryOne("SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL",
                rs -> rs.getLong(1), userId).orElse(0L);
    }

    @Override
    public boolean revokeApiKey(String keyId, Instant at) {
        return update("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                at.toEpochMilli(), keyId) == 1;
    }

    @Override
    public void insertSandbox(SandboxRecord s) {
        try {
            update("INSERT INTO sandboxes (" + SANDBOX_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                            + "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    s.id(), s.userId(), s.name(), s.status().wire(), s.shape(), s.rootfs(), s.vcpu(), s.memMib(),
                    s.diskMib(), s.ip(), s.hostId(), s.ingressEnabled(), s.autoPauseAfterSeconds(),
                    envsColumn(s), toJson(s.egress()), toJson(s.sshPubkeys()), s.bandwidthQuotaBytes(),
                    s.spawnMs(), s.createdAt().toEpochMilli(), millis(s.runningAt()), millis(s.destroyedAt()),
                    s.failure(), s.createdBy(), s.forkedFrom(), millis(s.pausedAt()), millis(s.lastResumedAt()));
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && isUniqueViolation(sql)) {
                throw new NameTakenException(s.name());
            }
            throw e;
        }
    }

    @Override
    public boolean insertSandboxWithin(SandboxRecord s, int liveLimit) {
        return inTransaction(() -> {
            if (postgres) {
                // Serialises the admissions of one user across replicas; SQLite's transaction already holds the
                // database's only write lock.
                query("SELECT id FROM users WHERE id = ? FOR UPDATE", rs -> rs.getString(1), s.userId());
            }
            // A DELETE is the user's last word: a sandbox being destroyed no longer counts (issue 18).
            long live = queryOne("SELECT COUNT(*) FROM sandboxes WHERE user_id = ? AND status <> 'destroyed' "
                    + "AND status <> 'failed' AND status <> 'destroying'", rs -> rs.getLong(1), s.userId()).orElse(0L);
            if (live >= liveLimit) {
                return false;
            }
            insertSandbox(s);
            return true;
        });
    }

    @Override
    public boolean claim(String sandboxId, String owner, Instant now, Instant until) {
        return update("UPDATE sandboxes SET claimed_by = ?, claimed_until = ? WHERE id = ? AND (claimed_by IS NULL "
                + "OR claimed_by = ? OR claimed_until < ?)", owner, until.toEpochMilli(), sandboxId, owner,
                now.toEpochMilli()) == 1;
    }

    @Override
    public boolean claimLapsed(String sandboxId, String owner, Instant now, Instant until) {
        return update("UPDATE sandboxes SET claimed_by = ?, claimed_until = ? WHERE id = ? AND claimed_by IS NOT NULL "
                + "AND claimed_until < ?", owner, until.toEpochMilli(), sandboxId, now.toEpochMilli()) == 1;
    }

    @Override
    public void unclaim(String sandboxId, String owner) {
        update("UPDATE sandboxes SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                sandboxId, owner);
    }

    @Override
    public <T> T inTransaction(java.util.function.Supplier<T> work) {
        if (transaction.get() != null) {
            return work.get();
        }
        Connection c = borrow("BEGIN");
        try {
            c.setAutoCommit(false);
            transaction.set(c);
            T result = work.get();
            c.commit();
            return result;
        } catch (SQLException e) {
            rollbackQuietly(c);
            throw new StoreException("database transaction failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            transaction.remove();
            try {
                c.setAutoCommit(true);
            } catch (SQLException ignored) {
                // Hikari resets (or evicts) the connection when it comes back
            }
            closeQuietly(c);
        }
    }

    @Override
    public Optional<SandboxRecord> sandbox(String id) {
        return queryOne("SELECT " + SANDBOX_COLUMNS + " FROM sandboxes WHERE id = ?", this::toSandbox, id);
    }

    @Override
    public Optional<SandboxRecord> sandboxByIp(String userId, String ip) {
        return queryOne("SELECT " + SANDBOX_COLUMNS + " FROM sandboxes WHERE user_id = ? AND ip = ? "
                + "AND status <> 'destroyed' ORDER BY id DESC", this::toSandbox, userId, ip);
    }

    @Override
    public List<SandboxRecord> sandboxes(String userId, SandboxStatus status, int limit, int offset) {
        return query("SELECT " + SANDBOX_COLUMNS + " FROM sandboxes WHERE user_id = ? AND " + statusFilter(status)
                + " ORDER BY id LIMIT ? OFFSET ?", this::toSandbox, userId, statusArg(status), limit, offset);
    }

    @Override
    public long countSandboxes(String userId, SandboxStatus status) {
        return queryOne("SELECT COUNT(*) FROM sandboxes WHERE user_id = ? AND " + statusFilter(status),
                rs -> rs.getLong(1), userId, statusArg(status)).orElse(0L);
    }

    @Override
    public Map<SandboxStatus, Long> countByStatus(String userId) {
        Map<SandboxStatus, Long> counts = new EnumMap<>(SandboxStatus.class);
        for (var row : query("SELECT status, COUNT(*) FROM sandboxes WHERE user_id = ? GROUP BY status",
                rs -> Map.entry(SandboxStatus.fromWire(rs.getString(1)), rs.getLong(2)), userId)) {
            counts.put(row.getKey(), row.getValue());
        }
        return counts;
    }

    @Override
    public List<SandboxRecord> sandboxesIn(Collection<SandboxStatus> statuses) {
        List<SandboxRecord> all = new ArrayList<>();
        for (SandboxStatus status : statuses) {
            all.addAll(query("SELECT " + SANDBOX_COLUMNS + " FROM sandboxes WHERE status = ? ORDER BY id",
                    this::toSandbox, status.wire()));
        }
        return all;
    }

    @Override
    public boolean updateSandbox(SandboxRecord s, SandboxStatus expected) {
        return update("UPDATE sandboxes SET status = ?, disk_mib = ?, ip = ?, host_id = ?, ingress_enabled = ?, "
                        + "auto_pause_after_seconds = ?, envs = ?, egress = ?, ssh_pubkeys = ?, "
                        + "bandwidth_quota_bytes = ?, spawn_ms = ?, running_at = ?, destroyed_at = ?, failure = ?, "
                        + "paused_at = ?, last_resumed_at = ? WHERE id = ? AND status = ?",
                s.status().wire(), s.diskMib(), s.ip(), s.hostId(), s.ingressEnabled(), s.autoPauseAfterSeconds(),
                envsColumn(s), toJson(s.egress()), toJson(s.sshPubkeys()), s.bandwidthQuotaBytes(), s.spawnMs(),
                millis(s.runningAt()), millis(s.destroyedAt()), s.failure(), millis(s.pausedAt()),
                millis(s.lastResumedAt()), s.id(), expected.wire()) == 1;
    }

    @Override
    public void close() {
        pool.close();
    }

    // --- plumbing ---

    @Override
    public void insertNetwork(NetworkRecord n) {
        try {
            update("INSERT INTO networks (id, user_id, name, cidr, created_at) VALUES (?, ?, ?, ?, ?)", n.id(),
                    n.userId(), n.name(), n.cidr(), n.createdAt().toEpochMilli());
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && isUniqueViolation(sql)) {
                throw new NameTakenException("network", n.name());
            }
            throw e;
        }
    }

    @Override
    public Optional<NetworkRecord> network(String id) {
        return queryOne("SELECT * FROM networks WHERE id = ?", JdbcStore::toNetwork, id);
    }

    @Override
    public List<NetworkRecord> networks(String userId, int limit, int offset) {
        return query("SELECT * FROM networks WHERE user_id = ? ORDER BY id LIMIT ? OFFSET ?", JdbcStore::toNetwork,
                userId, limit, offset);
    }

    @Override
    public long countNetworks(String userId) {
        return queryOne("SELECT COUNT(*) AS n FROM networks WHERE user_id = ?", rs -> rs.getLong("n"), userId)
                .orElse(0L);
    }

    @Override
    public void setNetworkCidr(String networkId, String cidr) {
        update("UPDATE networks SET cidr = ? WHERE id = ?", cidr, networkId);
    }

    @Override
    public boolean deleteNetwork(String networkId) {
        return inTransaction(() -> {
            update("DELETE FROM network_members WHERE network_id = ?", networkId);
            return update("DELETE FROM networks WHERE id = ?", networkId) == 1;
        });
    }

    @Override
    public int deleteMemberships(String sandboxId) {
        return update("DELETE FROM network_members WHERE sandbox_id = ?", sandboxId);
    }

    @Override
    public boolean insertMember(String networkId, String sandboxId, Instant attachedAt) {
        try {
            update("INSERT INTO network_members (network_id, sandbox_id, attached_at) VALUES (?, ?, ?)", networkId,
                    sandboxId, attachedAt.toEpochMilli());
            return true;
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && isUniqueViolation(sql)) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void setMemberIp(String networkId, String sandboxId, String ip) {
        update("UPDATE network_members SET ip = ? WHERE network_id = ? AND sandbox_id = ?", ip, networkId, sandboxId);
    }

    @Override
    public boolean deleteMember(String networkId, String sandboxId) {
        return update("DELETE FROM network_members WHERE network_id = ? AND sandbox_id = ?", networkId,
                sandboxId) == 1;
    }

    private static final String MEMBER_QUERY = "SELECT m.network_id, m.sandbox_id, m.ip, m.attached_at, s.name, "
            + "s.status FROM network_members m JOIN sandboxes s ON s.id = m.sandbox_id WHERE ";

    @Override
    public List<NetworkMemberRecord> members(String networkId) {
        return query(MEMBER_QUERY + "m.network_id = ? ORDER BY m.sandbox_id", JdbcStore::toMember, networkId);
    }

    @Override
    public List<NetworkMemberRecord> memberships(String sandboxId) {
        return query(MEMBER_QUERY + "m.sandbox_id = ? ORDER BY m.network_id", JdbcStore::toMember, sandboxId);
    }

    private static NetworkRecord toNetwork(ResultSet rs) throws SQLException {
        return new NetworkRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"),
                rs.getString("cidr"), Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    private static NetworkMemberRecord toMember(ResultSet rs) throws SQLException {
        return new NetworkMemberRecord(rs.getString("network_id"), rs.getString("sandbox_id"), rs.getString("name"),
                SandboxStatus.fromWire(rs.getString("status")), rs.getString("ip"),
                Instant.ofEpochMilli(rs.getLong("attached_at")));
    }

    private static final String TOKEN_COLUMNS = "sandbox_id, user_id, token_hash, token_hint, created_at, rotated_at";

    @Override
    public boolean insertAccessToken(AccessTokenRecord t) {
        try {
            update("INSERT INTO sandbox_access_tokens (" + TOKEN_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)",
                    t.sandboxId(), t.userId(), t.tokenHash(), t.tokenHint(), t.createdAt().toEpochMilli(),
                    t.rotatedAt() == null ? null : t.rotatedAt().toEpochMilli());
            return true;
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && isUniqueViolation(sql)
                    && accessToken(t.sandboxId()).isPresent()) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public boolean replaceAccessToken(AccessTokenRecord t) {
        return update("UPDATE sandbox_access_tokens SET token_hash = ?, token_hint = ?, rotated_at = ? "
                + "WHERE sandbox_id = ?", t.tokenHash(), t.tokenHint(),
                t.rotatedAt() == null ? null : t.rotatedAt().toEpochMilli(), t.sandboxId()) == 1;
    }

    @Override
    public Optional<AccessTokenRecord> accessToken(String sandboxId) {
        return queryOne("SELECT " + TOKEN_COLUMNS + " FROM sandbox_access_tokens WHERE sandbox_id = ?",
                JdbcStore::toAccessToken, sandboxId);
    }

    @Override
    public Optional<AccessTokenRecord> accessTokenByHash(String tokenHash) {
        return queryOne("SELECT " + TOKEN_COLUMNS + " FROM sandbox_access_tokens WHERE token_hash = ?",
                JdbcStore::toAccessToken, tokenHash);
    }

    @Override
    public boolean deleteAccessToken(String sandboxId) {
        return update("DELETE FROM sandbox_access_tokens WHERE sandbox_id = ?", sandboxId) == 1;
    }

    private static AccessTokenRecord toAccessToken(ResultSet rs) throws SQLException {
        long rotated = rs.getLong("rotated_at");
        Instant rotatedAt = rs.wasNull() ? null : Instant.ofEpochMilli(rotated);
        return new AccessTokenRecord(rs.getString("sandbox_id"), rs.getString("user_id"), rs.getString("token_hash"),
                rs.getString("token_hint"), Instant.ofEpochMilli(rs.getLong("created_at")), rotatedAt);
    }

    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private static String statusFilter(SandboxStatus status) {
        return status == null ? "status <> ?" : "status = ?";
    }

    private static String statusArg(SandboxStatus status) {
        return (status == null ? SandboxStatus.DESTROYED : status).wire();
    }

    private int update(String sql, Object... args) {
        Connection c = connection(sql);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("database update failed: " + sql + ": " + e.getMessage(), e);
        } finally {
            giveBack(c);
        }
    }

    private <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
        Connection c = connection(sql);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            List<T> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(mapper.map(rs));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new StoreException("database query failed: " + sql + ": " + e.getMessage(), e);
        } finally {
            giveBack(c);
        }
    }

    /** The thread's transaction, or a connection of its own (auto-commit) for one statement. */
    private Connection connection(String sql) {
        Connection c = transaction.get();
        return c != null ? c : borrow(sql);
    }

    private void giveBack(Connection c) {
        if (c != transaction.get()) {
            closeQuietly(c);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; Hikari evicts it
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning a connection to the pool
        }
    }

    private <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) {
        List<T> rows = query(sql, mapper, args);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    private Connection borrow(String sql) {
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            throw new StoreException("cannot connect to the database for: " + sql + ": " + e.getMessage(), e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object arg = args[i];
            switch (arg) {
                case null -> ps.setNull(i + 1, Types.NULL);
                case String s -> ps.setString(i + 1, s);
                case Integer n -> ps.setInt(i + 1, n);
                case Long n -> ps.setLong(i + 1, n);
                case Boolean b -> ps.setBoolean(i + 1, b);
                default -> throw new IllegalArgumentException("unsupported SQL argument " + arg.getClass());
            }
        }
    }

    private static boolean isUniqueViolation(SQLException e) {
        // PostgreSQL reports SQLState 23505; SQLite reports result code 19 (SQLITE_CONSTRAINT) with "UNIQUE".
        return "23505".equals(e.getSQLState())
                || (e.getErrorCode() == 19 && String.valueOf(e.getMessage()).contains("UNIQUE"));
    }

    private static Long millis(Instant at) {
        return at == null ? null : at.toEpochMilli();
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(value);
    }

    private static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value, e);
        }
    }

    private static <T> T fromJson(String text, TypeReference<T> type) throws SQLException {
        try {
            return JSON.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new SQLException("corrupt JSON column value: " + text, e);
        }
    }

    private static User toUser(ResultSet rs) throws SQLException {
        return new User(rs.getString("id"), rs.getString("email"), rs.getInt("sandbox_limit"),
                Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    private static final String API_KEY_COLUMNS = "id, user_id, key_hash, prefix, created_at, revoked_at, name";

    private static ApiKey toApiKey(ResultSet rs) throws SQLException {
        return new ApiKey(rs.getString("id"), rs.getString("user_id"), rs.getString("key_hash"),
                rs.getString("prefix"), Instant.ofEpochMilli(rs.getLong("created_at")), instant(rs, "revoked_at"),
                rs.getString("name"));
    }

    private SandboxRecord toSandbox(ResultSet rs) throws SQLException {
        return new SandboxRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"),
                SandboxStatus.fromWire(rs.getString("status")), rs.getString("shape"), rs.getString("rootfs"),
                rs.getInt("vcpu"), rs.getInt("mem_mib"), rs.getInt("disk_mib"), rs.getString("ip"),
                rs.getString("host_id"), rs.getBoolean("ingress_enabled"),
                nullableInt(rs, "auto_pause_after_seconds"),
                envsOf(rs.getString("id"), rs.getString("envs")),
                fromJson(rs.getString("egress"), new TypeReference<List<String>>() {}),
                fromJson(rs.getString("ssh_pubkeys"), new TypeReference<List<String>>() {}),
                rs.getLong("bandwidth_quota_bytes"), nullableLong(rs, "spawn_ms"),
                Instant.ofEpochMilli(rs.getLong("created_at")), instant(rs, "running_at"),
                instant(rs, "destroyed_at"), rs.getString("failure"), rs.getString("created_by"),
                rs.getString("forked_from"), instant(rs, "paused_at"), instant(rs, "last_resumed_at"));
    }
}
