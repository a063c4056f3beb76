package sh.createos.sandbox.server.store;

/** The database failed; carries the statement that failed. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
