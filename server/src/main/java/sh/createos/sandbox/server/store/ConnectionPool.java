package sh.createos.sandbox.server.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Properties;

/** A handful of reusable JDBC connections; a connection that saw an error is dropped, not reused. */
final class ConnectionPool implements AutoCloseable {
    private static final int MAX_IDLE = 8;
    private final String url;
    private final Properties properties;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private boolean closed;

    ConnectionPool(String url, Properties properties) {
        this.url = url;
        this.properties = properties;
    }

    Connection borrow() throws SQLException {
        synchronized (this) {
            if (closed) {
                throw new SQLException("store is closed");
            }
            Connection c = idle.pollFirst();
            if (c != null) {
                return c;
            }
        }
        return DriverManager.getConnection(url, properties);
    }

    void giveBack(Connection c, boolean healthy) {
        synchronized (this) {
            if (healthy && !closed && idle.size() < MAX_IDLE) {
                idle.addFirst(c);
                return;
            }
        }
        closeQuietly(c);
    }

    @Override
    public synchronized void close() {
        closed = true;
        idle.forEach(ConnectionPool::closeQuietly);
        idle.clear();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing a connection we are discarding anyway
        }
    }
}
