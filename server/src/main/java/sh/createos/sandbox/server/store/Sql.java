package sh.createos.sandbox.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Single statements on a pooled connection, with arguments bound by their Java type and every failure a
 * {@link StoreException} naming the statement: the plumbing the stores beside {@link JdbcStore} share.
 */
final class Sql {
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final DataSource pool;

    Sql(DataSource pool) {
        this.pool = pool;
    }

    int update(String sql, Object... args) {
        try (Connection c = borrow(sql); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("database update failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) {
        try (Connection c = borrow(sql); PreparedStatement ps = c.prepareStatement(sql)) {
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
        }
    }

    <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) {
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

    /** Whether a failed update broke a unique constraint (the cause of its {@link StoreException}). */
    static boolean isUniqueViolation(StoreException e) {
        // PostgreSQL reports SQLState 23505; SQLite reports result code 19 (SQLITE_CONSTRAINT) with "UNIQUE".
        return e.getCause() instanceof SQLException sql && ("23505".equals(sql.getSQLState())
                || (sql.getErrorCode() == 19 && String.valueOf(sql.getMessage()).contains("UNIQUE")));
    }
}
