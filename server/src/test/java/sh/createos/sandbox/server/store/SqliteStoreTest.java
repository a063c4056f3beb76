package sh.createos.sandbox.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.secrets.SecretBox;

class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dir;

    @Override
    Store openStore() {
        return JdbcStore.sqlite(dir.resolve("control.db"));
    }

    @Override
    Store openReplica() {
        return JdbcStore.sqlite(dir.resolve("control.db"));
    }

    /** Issue 18: env values (tokens, passwords) were in clear text in the database. */
    @Test
    void envsAreSealedAtRestAndRowsFromBeforeAreSealedAtTheNextOpen() throws Exception {
        Path db = dir.resolve("sealed.db");
        User owner = new User("u_" + Ulid.next(), "envs@example.com", 5, Instant.ofEpochMilli(1_000));
        SandboxRecord old = row(owner, "old", Map.of("TOKEN", "from-before"));
        try (JdbcStore clear = JdbcStore.sqlite(db)) {
            clear.createUser(owner);
            clear.insertSandbox(old);
        }
        assertThat(rawEnvs(db, old.id())).contains("from-before");
        SecretBox box = SecretBox.of(new byte[32]);
        try (JdbcStore sealed = JdbcStore.sqlite(db).sealingEnvsWith(box)) {
            assertThat(rawEnvs(db, old.id())).startsWith("v1:").doesNotContain("from-before", "TOKEN");
            SandboxRecord fresh = row(owner, "fresh", Map.of("PASSWORD", "hunter2"));
            sealed.insertSandbox(fresh);
            assertThat(rawEnvs(db, fresh.id())).startsWith("v1:").doesNotContain("hunter2", "PASSWORD");
            assertThat(sealed.sandbox(fresh.id()).orElseThrow().envs()).isEqualTo(Map.of("PASSWORD", "hunter2"));
            assertThat(sealed.sandbox(old.id()).orElseThrow().envs()).isEqualTo(Map.of("TOKEN", "from-before"));
        }
    }

    private static SandboxRecord row(User owner, String name, Map<String, String> envs) {
        return new SandboxRecord("sb_" + Ulid.next(), owner.id(), name, SandboxStatus.RUNNING, "s-1vcpu-256mb",
                "devbox:1", 1, 256, 1024, null, null, false, null, envs, List.of(), List.of(), -1, null,
                Instant.ofEpochMilli(1_000), null, null, null, owner.email());
    }

    private static String rawEnvs(Path db, String id) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
             var q = c.prepareStatement("SELECT envs FROM sandboxes WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }
}
