package sh.createos.sandbox.server.store;

/** A live sandbox of the same user already has this name. */
public class NameTakenException extends RuntimeException {
    public NameTakenException(String name) {
        super("sandbox name '" + name + "' is already in use");
    }
}
