package sh.createos.sandbox.server.store;

class PostgresStoreTest extends StoreContract {
    @Override
    Store openStore() throws Exception {
        return JdbcStore.open(PostgresCluster.shared().newDatabase());
    }
}
