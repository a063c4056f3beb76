package sh.createos.sandbox.server.store;

/** What {@link Store#revokeOwnApiKey} did. */
public enum KeyRevocation {
    REVOKED,
    /** It was revoked before: nothing changed. */
    ALREADY_REVOKED,
    /** No such key, or another user's. */
    NOT_FOUND,
    /** It is the user's only active key: revoking it would lock the user out, so nothing changed. */
    LAST_ACTIVE_KEY
}
