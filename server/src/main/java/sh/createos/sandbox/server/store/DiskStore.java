package sh.createos.sandbox.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The disks' rows (spec §11): {@code disks} and {@code sandbox_disks} (migration V50), over its own few connections
 * to the database {@link JdbcStore} migrated. {@code config} is the disk's JSON config; {@code credentials} is
 * sealed and opened by the caller, never here.
 */
public final class DiskStore implements AutoCloseable {
    private static final String DISK_COLUMNS = "id, user_id, name, kind, config, credentials, credentials_version, created_at";
    private static final String MOUNT_COLUMNS = "sandbox_id, disk_id, mount_path, sub_path, mount_status, mount_error, "
            + "credentials_version, attached_at";

    /** A registered disk. */
    public record DiskRecord(String id, String userId, String name, String kind, String config, String credentials,
                             int credentialsVersion, Instant createdAt) {
        @Override
        public String toString() {
            return "DiskRecord[" + id + " " + name + "]";
        }
    }

    /** A disk mounted (or being mounted, or unmounted) in a sandbox. */
    public record MountRecord(String sandboxId, String diskId, String mountPath, String subPath, String status,
                              String error, int credentialsVersion, Instant attachedAt) {}

    private final HikariDataSource pool;
    private final Sql sql;

    private DiskStore(HikariDataSource pool) {
        this.pool = pool;
        this.sql = new Sql(pool);
    }

    /** Opens the database of {@link JdbcStore#open(String)} (which runs the migrations: open that first). */
    public static DiskStore open(String url) {
        Properties properties = new Properties();
        if (url.startsWith("jdbc:sqlite:")) {
            properties.setProperty("busy_timeout", "10000");
            properties.setProperty("foreign_keys", "true");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setDataSourceProperties(properties);
        config.setPoolName("disks");
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(1);
        return new DiskStore(new HikariDataSource(config));
    }

    /** @throws NameTakenException when the user has a disk of that name */
    public void insertDisk(DiskRecord d) {
        try {
            sql.update("INSERT INTO disks (" + DISK_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", d.id(), d.userId(),
                    d.name(), d.kind(), d.config(), d.credentials(), d.credentialsVersion(),
                    d.createdAt().toEpochMilli());
        } catch (StoreException e) {
            if (Sql.isUniqueViolation(e)) {
                throw new NameTakenException("disk", d.name());
            }
            throw e;
        }
    }

    public Optional<DiskRecord> disk(String id) {
        return sql.queryOne("SELECT " + DISK_COLUMNS + " FROM disks WHERE id = ?", DiskStore::toDisk, id);
    }

    public Optional<DiskRecord> diskByName(String userId, String name) {
        return sql.queryOne("SELECT " + DISK_COLUMNS + " FROM disks WHERE user_id = ? AND name = ?", DiskStore::toDisk,
                userId, name);
    }

    public List<DiskRecord> disks(String userId, int limit, int offset) {
        return sql.query("SELECT " + DISK_COLUMNS + " FROM disks WHERE user_id = ? ORDER BY id LIMIT ? OFFSET ?",
                DiskStore::toDisk, userId, limit, offset);
    }

    public long countDisks(String userId) {
        return sql.query("SELECT COUNT(*) FROM disks WHERE user_id = ?", rs -> rs.getLong(1), userId).get(0);
    }

    /** New sealed credentials; the version goes up by one. */
    public void setCredentials(String id, String sealed, int version) {
        sql.update("UPDATE disks SET credentials = ?, credentials_version = ? WHERE id = ?", sealed, version, id);
    }

    public void deleteDisk(String id) {
        sql.update("DELETE FROM disks WHERE id = ?", id);
    }

    /** @throws NameTakenException when the sandbox already has a mount at that path */
    public void insertMount(MountRecord m) {
        try {
            sql.update("INSERT INTO sandbox_disks (" + MOUNT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)", m.sandboxId(),
                    m.diskId(), m.mountPath(), m.subPath(), m.status(), m.error(), m.credentialsVersion(),
                    m.attachedAt().toEpochMilli());
        } catch (StoreException e) {
            if (Sql.isUniqueViolation(e)) {
                throw new NameTakenException("mount path", m.mountPath());
            }
            throw e;
        }
    }

    public Optional<MountRecord> mount(String sandboxId, String mountPath) {
        return sql.queryOne("SELECT " + MOUNT_COLUMNS + " FROM sandbox_disks WHERE sandbox_id = ? AND mount_path = ?",
                DiskStore::toMount, sandboxId, mountPath);
    }

    /** A sandbox's mounts, by mount path. */
    public List<MountRecord> mounts(String sandboxId) {
        return sql.query("SELECT " + MOUNT_COLUMNS + " FROM sandbox_disks WHERE sandbox_id = ? ORDER BY mount_path",
                DiskStore::toMount, sandboxId);
    }

    /** A disk's mounts in sandboxes that are neither destroyed nor failed. */
    public List<MountRecord> liveMountsOf(String diskId) {
        return sql.query("SELECT m.sandbox_id, m.disk_id, m.mount_path, m.sub_path, m.mount_status, m.mount_error, "
                + "m.credentials_version, m.attached_at FROM sandbox_disks m JOIN sandboxes s ON s.id = m.sandbox_id "
                + "WHERE m.disk_id = ? AND s.status NOT IN ('destroyed', 'failed') ORDER BY m.sandbox_id, m.mount_path",
                DiskStore::toMount, diskId);
    }

    /** Every mount in a sandbox that may still have a VM (neither destroyed nor failed). */
    public List<MountRecord> liveMounts() {
        return sql.query("SELECT m.sandbox_id, m.disk_id, m.mount_path, m.sub_path, m.mount_status, m.mount_error, "
                + "m.credentials_version, m.attached_at FROM sandbox_disks m JOIN sandboxes s ON s.id = m.sandbox_id "
                + "WHERE s.status NOT IN ('destroyed', 'failed') ORDER BY m.sandbox_id, m.mount_path",
                DiskStore::toMount);
    }

    /** Sets status and error; only when the row exists (a detach may have removed it meanwhile). */
    public boolean setMountStatus(String sandboxId, String mountPath, String status, String error,
            int credentialsVersion) {
        return sql.update("UPDATE sandbox_disks SET mount_status = ?, mount_error = ?, credentials_version = ? "
                + "WHERE sandbox_id = ? AND mount_path = ?", status, error, credentialsVersion, sandboxId,
                mountPath) == 1;
    }

    public void deleteMount(String sandboxId, String mountPath) {
        sql.update("DELETE FROM sandbox_disks WHERE sandbox_id = ? AND mount_path = ?", sandboxId, mountPath);
    }

    @Override
    public void close() {
        pool.close();
    }

    private static DiskRecord toDisk(ResultSet rs) throws SQLException {
        return new DiskRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), rs.getString("kind"),
                rs.getString("config"), rs.getString("credentials"), rs.getInt("credentials_version"),
                Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    private static MountRecord toMount(ResultSet rs) throws SQLException {
        return new MountRecord(rs.getString("sandbox_id"), rs.getString("disk_id"), rs.getString("mount_path"),
                rs.getString("sub_path"), rs.getString("mount_status"), rs.getString("mount_error"),
                rs.getInt("credentials_version"), Instant.ofEpochMilli(rs.getLong("attached_at")));
    }

}
