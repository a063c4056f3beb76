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
 * The templates' rows (spec §12, migration V70): {@code templates}, their log lines {@code template_logs}, and the
 * build cache {@code template_build_cache}, over a few connections of its own to the database {@link JdbcStore}
 * migrated.
 */
public final class TemplateStore implements AutoCloseable {
    private static final String COLUMNS = "id, user_id, name, version, base, base_image, status, dockerfile, "
            + "image_config, ext4_size_bytes, error, builder_vm, created_at, built_at, deleted_at";

    /** One version of a template. {@code imageConfig} is the JSON of its {@code ImageConfig}. */
    public record TemplateRecord(String id, String userId, String name, int version, String base, String baseImage,
                                 String status, String dockerfile, String imageConfig, long ext4SizeBytes,
                                 String error, String builderVm, Instant createdAt, Instant builtAt,
                                 Instant deletedAt) {
        @Override
        public String toString() {
            return "TemplateRecord[" + id + " " + name + " v" + version + " " + status + "]";
        }
    }

    public record LogLine(int seq, int attempt, Instant ts, String level, String line) {}

    public record CacheEntry(String key, String userId, String vmId, Instant createdAt, Instant usedAt) {}

    private final HikariDataSource pool;
    private final Sql sql;

    private TemplateStore(HikariDataSource pool) {
        this.pool = pool;
        this.sql = new Sql(pool);
    }

    /** Opens the database of {@link JdbcStore#open(String)} (which runs the migrations: open that first). */
    public static TemplateStore open(String url) {
        Properties properties = new Properties();
        if (url.startsWith("jdbc:sqlite:")) {
            properties.setProperty("busy_timeout", "10000");
            properties.setProperty("foreign_keys", "true");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setDataSourceProperties(properties);
        config.setPoolName("templates");
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(1);
        return new TemplateStore(new HikariDataSource(config));
    }

    /**
     * Inserts a new version of {@code name}: one more than the highest the user ever had. A concurrent submit of the
     * same name that took the version first makes this retry with the next.
     */
    public TemplateRecord insertNextVersion(TemplateRecord t) {
        for (int tries = 0; ; tries++) {
            int version = sql.query("SELECT COALESCE(MAX(version), 0) FROM templates WHERE user_id = ? AND name = ?",
                    rs -> rs.getInt(1), t.userId(), t.name()).get(0) + 1;
            TemplateRecord row = new TemplateRecord(t.id(), t.userId(), t.name(), version, t.base(), t.baseImage(),
                    t.status(), t.dockerfile(), t.imageConfig(), t.ext4SizeBytes(), t.error(), t.builderVm(),
                    t.createdAt(), t.builtAt(), t.deletedAt());
            try {
                sql.update("INSERT INTO templates (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row.id(), row.userId(), row.name(), row.version(), row.base(), row.baseImage(), row.status(),
                        row.dockerfile(), row.imageConfig(), row.ext4SizeBytes(), row.error(), row.builderVm(),
                        millis(row.createdAt()), millis(row.builtAt()), millis(row.deletedAt()));
                return row;
            } catch (StoreException e) {
                if (tries < 5 && Sql.isUniqueViolation(e)) {
                    continue;
                }
                throw e;
            }
        }
    }

    /** A template by id, deleted ones included. */
    public Optional<TemplateRecord> template(String id) {
        return sql.queryOne("SELECT " + COLUMNS + " FROM templates WHERE id = ?", TemplateStore::toTemplate, id);
    }

    /** The newest live version of the user's {@code name}. */
    public Optional<TemplateRecord> newestByName(String userId, String name) {
        return sql.queryOne("SELECT " + COLUMNS + " FROM templates WHERE user_id = ? AND name = ? AND deleted_at IS NULL"
                + " ORDER BY version DESC LIMIT 1", TemplateStore::toTemplate, userId, name);
    }

    /** Whether the user ever had a template of this name (deleted ones included). */
    public boolean hadName(String userId, String name) {
        return sql.query("SELECT COUNT(*) FROM templates WHERE user_id = ? AND name = ?", rs -> rs.getLong(1), userId,
                name).get(0) > 0;
    }

    /** The newest live version of the user's {@code name} that is ready. */
    public Optional<TemplateRecord> newestReadyByName(String userId, String name) {
        return sql.queryOne("SELECT " + COLUMNS + " FROM templates WHERE user_id = ? AND name = ? AND deleted_at IS NULL"
                + " AND status = 'ready' ORDER BY version DESC LIMIT 1", TemplateStore::toTemplate, userId, name);
    }

    /** The user's live templates, every version, newest first. */
    public List<TemplateRecord> templates(String userId, int limit, int offset) {
        return sql.query("SELECT " + COLUMNS + " FROM templates WHERE user_id = ? AND deleted_at IS NULL"
                + " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", TemplateStore::toTemplate, userId, limit, offset);
    }

    public long countTemplates(String userId) {
        return sql.query("SELECT COUNT(*) FROM templates WHERE user_id = ? AND deleted_at IS NULL", rs -> rs.getLong(1),
                userId).get(0);
    }

    /** The user's live ready templates (for the rootfs catalog). */
    public List<TemplateRecord> readyTemplates(String userId) {
        return sql.query("SELECT " + COLUMNS + " FROM templates WHERE user_id = ? AND deleted_at IS NULL AND status = 'ready'"
                + " ORDER BY name, version DESC", TemplateStore::toTemplate, userId);
    }

    /** Rows in one of {@code statuses}, of every user. */
    public List<TemplateRecord> withStatus(String... statuses) {
        String marks = String.join(", ", java.util.Collections.nCopies(statuses.length, "?"));
        return sql.query("SELECT " + COLUMNS + " FROM templates WHERE status IN (" + marks + ") ORDER BY created_at",
                TemplateStore::toTemplate, (Object[]) statuses);
    }

    /** Moves the row from {@code from} to {@code to}; false when it was not in {@code from} (deleted meanwhile). */
    public boolean transition(String id, String from, String to) {
        return sql.update("UPDATE templates SET status = ? WHERE id = ? AND status = ?", to, id, from) == 1;
    }

    /** The image a build resolved its FROM to (a pulled registry image) and the image config seeded from it. */
    public boolean setBase(String id, String baseImage, String imageConfig) {
        return sql.update("UPDATE templates SET base_image = ?, image_config = ? WHERE id = ?", baseImage, imageConfig,
                id) == 1;
    }

    public boolean setBuilderVm(String id, String vmId) {
        return sql.update("UPDATE templates SET builder_vm = ? WHERE id = ?", vmId, id) == 1;
    }

    /** building → ready with its size; false when the row left building meanwhile (deleted: cancelled). */
    public boolean markReady(String id, long sizeBytes, Instant builtAt) {
        return sql.update("UPDATE templates SET status = 'ready', ext4_size_bytes = ?, built_at = ?, builder_vm = NULL"
                + " WHERE id = ? AND status = 'building'", sizeBytes, builtAt.toEpochMilli(), id) == 1;
    }

    /** pending or building → failed with its reason; false when the row was neither (cancelled meanwhile). */
    public boolean markFailed(String id, String error) {
        return sql.update("UPDATE templates SET status = 'failed', error = ?, builder_vm = NULL"
                + " WHERE id = ? AND status IN ('pending', 'building')", error, id) == 1;
    }

    /** Deletes the row for its user: deleted_at set, a build under way becomes cancelled. */
    public void markDeleted(String id, Instant at) {
        sql.update("UPDATE templates SET deleted_at = ?, status = CASE WHEN status IN ('pending', 'building')"
                + " THEN 'cancelled' ELSE status END WHERE id = ? AND deleted_at IS NULL", at.toEpochMilli(), id);
    }

    public void appendLog(String templateId, LogLine line) {
        sql.update("INSERT INTO template_logs (template_id, seq, attempt, ts, level, line) VALUES (?, ?, ?, ?, ?, ?)",
                templateId, line.seq(), line.attempt(), line.ts().toEpochMilli(), line.level(), line.line());
    }

    /** Log lines after {@code afterSeq}, of {@code attempt} (0: every attempt), in order. */
    public List<LogLine> logs(String templateId, int afterSeq, int attempt) {
        return sql.query("SELECT seq, attempt, ts, level, line FROM template_logs WHERE template_id = ? AND seq > ?"
                + " AND (? = 0 OR attempt = ?) ORDER BY seq", rs -> new LogLine(rs.getInt("seq"), rs.getInt("attempt"),
                Instant.ofEpochMilli(rs.getLong("ts")), rs.getString("level"), rs.getString("line")),
                templateId, afterSeq, attempt, attempt);
    }

    public Optional<CacheEntry> cacheEntry(String key) {
        return sql.queryOne("SELECT cache_key, user_id, vm_id, created_at, used_at FROM template_build_cache"
                + " WHERE cache_key = ?", TemplateStore::toCache, key);
    }

    public void putCacheEntry(CacheEntry e) {
        sql.update("DELETE FROM template_build_cache WHERE cache_key = ?", e.key());
        sql.update("INSERT INTO template_build_cache (cache_key, user_id, vm_id, created_at, used_at) VALUES (?, ?, ?, ?, ?)",
                e.key(), e.userId(), e.vmId(), e.createdAt().toEpochMilli(), e.usedAt().toEpochMilli());
    }

    public void touchCacheEntry(String key, Instant at) {
        sql.update("UPDATE template_build_cache SET used_at = ? WHERE cache_key = ?", at.toEpochMilli(), key);
    }

    public void deleteCacheEntry(String key) {
        sql.update("DELETE FROM template_build_cache WHERE cache_key = ?", key);
    }

    /** Every cache entry, least recently used first. */
    public List<CacheEntry> cacheEntries() {
        return sql.query("SELECT cache_key, user_id, vm_id, created_at, used_at FROM template_build_cache"
                + " ORDER BY used_at, cache_key", TemplateStore::toCache);
    }

    @Override
    public void close() {
        pool.close();
    }

    private static TemplateRecord toTemplate(ResultSet rs) throws SQLException {
        return new TemplateRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"),
                rs.getInt("version"), rs.getString("base"), rs.getString("base_image"), rs.getString("status"),
                rs.getString("dockerfile"), rs.getString("image_config"), rs.getLong("ext4_size_bytes"),
                rs.getString("error"), rs.getString("builder_vm"), instant(rs, "created_at"), instant(rs, "built_at"),
                instant(rs, "deleted_at"));
    }

    private static CacheEntry toCache(ResultSet rs) throws SQLException {
        return new CacheEntry(rs.getString("cache_key"), rs.getString("user_id"), rs.getString("vm_id"),
                instant(rs, "created_at"), instant(rs, "used_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long ms = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(ms);
    }

    private static Long millis(Instant at) {
        return at == null ? null : at.toEpochMilli();
    }

}
