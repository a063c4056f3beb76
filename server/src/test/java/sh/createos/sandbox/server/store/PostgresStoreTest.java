package sh.createos.sandbox.server.store;

class PostgresStoreTest extends StoreContract {
    private String url;

    @Override
    Store openStore() throws Exception {
        url = PostgresCluster.shared().newDatabase();
        return JdbcStore.open(url);
    }

    @Override
    Store openReplica() {
        return JdbcStore.open(url);
    }
}
