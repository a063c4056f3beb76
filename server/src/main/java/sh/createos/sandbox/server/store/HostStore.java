package sh.createos.sandbox.server.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The {@code hosts} table: host daemons that registered with the control plane, shared by its replicas. A heartbeat
 * writes the row (first one inserts it); each replica reads them all to know the machines and which are alive.
 */
public final class HostStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A registered host daemon: its id, the address it is dialled at, its labels, times in epoch ms. */
    public record HostRow(String id, String address, Map<String, String> labels, long registeredAt,
                          long lastHeartbeat) {
        public HostRow {
            labels = Map.copyOf(labels);
        }
    }

    private final DataSource pool;

    private HostStore(DataSource pool) {
        this.pool = pool;
    }

    public static HostStore on(Store store) {
        if (!(store instanceof JdbcStore jdbc)) {
            throw new IllegalArgumentException("registered hosts need the JDBC store, got " + store.getClass());
        }
        return new HostStore(jdbc.pool());
    }

    /** Records a heartbeat of {@code id} at {@code now}: its address and labels as it reports them now. */
    public void heartbeat(String id, String address, Map<String, String> labels, long now) {
        String labelsJson;
        try {
            labelsJson = JSON.writeValueAsString(labels);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("labels: " + e.getMessage(), e);
        }
        String update = "UPDATE hosts SET address = ?, labels = ?, last_heartbeat = ? WHERE id = ?";
        if (execute(update, address, labelsJson, now, id) > 0) {
            return;
        }
        try {
            execute("INSERT INTO hosts (id, address, labels, registered_at, last_heartbeat) VALUES (?, ?, ?, ?, ?)",
                    id, address, labelsJson, now, now);
        } catch (StoreException e) {
            // Another replica inserted it between our UPDATE and INSERT: its row, our heartbeat.
            if (!(e.getCause() instanceof SQLException sql) || !isUniqueViolation(sql)) {
                throw e;
            }
            execute(update, address, labelsJson, now, id);
        }
    }

    public List<HostRow> all() {
        String sql = "SELECT id, address, labels, registered_at, last_heartbeat FROM hosts ORDER BY id";
        try (Connection c = borrow(); PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            List<HostRow> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(new HostRow(rs.getString("id"), rs.getString("address"),
                        JSON.readValue(rs.getString("labels"), new TypeReference<Map<String, String>>() {}),
                        rs.getLong("registered_at"), rs.getLong("last_heartbeat")));
            }
            return rows;
        } catch (SQLException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new StoreException("database query failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    private int execute(String sql, Object... args) {
        try (Connection c = borrow(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
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
        // PostgreSQL: SQLState 23505; SQLite: result code 19 (SQLITE_CONSTRAINT).
        return "23505".equals(e.getSQLState()) || e.getErrorCode() == 19;
    }
}
