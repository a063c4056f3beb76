package sh.createos.sandbox.server.store;

/** A live sandbox (or a network) of the same user already has this name. */
public class NameTakenException extends RuntimeException {
    public NameTakenException(String name) {
        this("sandbox", name);
    }

    public NameTakenException(String what, String name) {
        super(what + " name '" + name + "' is already in use");
    }
}
