package sh.createos.sandbox.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Idempotency keys in the control database: a key is claimed (in flight) by the first request, completed with
 * its answer, or released when the answer means "not processed" so a retry runs afresh.
 */
public final class IdempotencyStore {
    private final DataSource pool;

    private IdempotencyStore(DataSource pool) {
        this.pool = pool;
    }

    /** The keys table of the store's database. */
    public static IdempotencyStore on(Store store) {
        if (!(store instanceof JdbcStore jdbc)) {
            throw new IllegalArgumentException("idempotency keys need the JDBC store, got " + store.getClass());
        }
        return new IdempotencyStore(jdbc.pool());
    }

    /** A stored key: {@code status} is null while the first request is in flight. */
    public record Entry(String fingerprint, Integer status, String contentType, String body, long createdAt) {
        public boolean inFlight() {
            return status == null;
        }
    }

    /** Claims the key for a first request; false when a row for it exists already. */
    public boolean claim(String userId, String key, String fingerprint, long now) {
        try {
            execute("INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                    userId, key, fingerprint, now);
            return true;
        } catch (StoreException e) {
            if (e.getCause() instanceof SQLException sql && isUniqueViolation(sql)) {
                return false;
            }
            throw e;
        }
    }

    public Optional<Entry> find(String userId, String key) {
        String sql = "SELECT fingerprint, status, content_type, body, created_at FROM idempotency_keys "
                + "WHERE user_id = ? AND idem_key = ?";
        try (Connection c = borrow(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, userId);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                Optional<Entry> entry = Optional.empty();
                if (rs.next()) {
                    int status = rs.getInt("status");
                    Integer st = rs.wasNull() ? null : status;
                    entry = Optional.of(new Entry(rs.getString("fingerprint"), st, rs.getString("content_type"),
                            rs.getString("body"), rs.getLong("created_at")));
                }
                return entry;
            }
        } catch (SQLException e) {
            throw new StoreException("database query failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    /** Stores the first request's answer. */
    public void complete(String userId, String key, int status, String contentType, String body) {
        execute("UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE user_id = ? AND idem_key = ?",
                status, contentType, body, userId, key);
    }

    /** Forgets a key (an answer that means nothing was done, an abandoned or expired row). */
    public void release(String userId, String key) {
        execute("DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?", userId, key);
    }

    /** Forgets every key created before {@code cutoff}. */
    public void purgeBefore(long cutoff) {
        execute("DELETE FROM idempotency_keys WHERE created_at < ?", cutoff);
    }

    private void execute(String sql, Object... args) {
        try (Connection c = borrow(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("database update failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    private Connection borrow() {
        try {
            return pool.getConnection();
        } catch (SQLException e) {
            throw new StoreException("no database connection: " + e.getMessage(), e);
        }
    }

    private static boolean isUniqueViolation(SQLException e) {
        // PostgreSQL: SQLState 23505; SQLite: result code 19 (SQLITE_CONSTRAINT) naming the key.
        return "23505".equals(e.getSQLState()) || (e.getErrorCode() == 19
                && (String.valueOf(e.getMessage()).contains("UNIQUE") || String.valueOf(e.getMessage()).contains("PRIMARY")));
    }
}
