package sh.createos.sandbox.server.store;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

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
}
