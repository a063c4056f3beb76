package sh.createos.sandbox.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.server.store.Store;
import sh.createos.sandbox.server.store.User;

/** Users and their keys, and the bootstrap account that a first start creates. */
public final class Accounts {
    public static final String BOOTSTRAP_EMAIL = "admin@localhost";
    public static final int DEFAULT_SANDBOX_LIMIT = 5;

    private final Store store;
    private final ApiKeys keys;

    public Accounts(Store store) {
        this.store = store;
        this.keys = new ApiKeys(store);
    }

    public User createUser(String email, int sandboxLimit) {
        if (email == null || !email.matches("[^@\\s]+@[^@\\s]+")) {
            throw new IllegalArgumentException("not an email address: '" + email + "'");
        }
        if (sandboxLimit < 0) {
            throw new IllegalArgumentException("sandbox limit must not be negative");
        }
        if (store.userByEmail(email).isPresent()) {
            throw new IllegalArgumentException("user " + email + " already exists");
        }
        User user = new User("u_" + Ulid.next(), email, sandboxLimit, Instant.now());
        store.createUser(user);
        return user;
    }

    /** @param user a user id ({@code u_…}) or email */
    public ApiKeys.Issued createKey(String user) {
        User found = (user.startsWith("u_") ? store.user(user) : store.userByEmail(user))
                .orElseThrow(() -> new IllegalArgumentException("no such user: " + user));
        return keys.issue(found.id());
    }

    public boolean revokeKey(String keyId) {
        return store.revokeApiKey(keyId, Instant.now());
    }

    /**
     * On the very first start (no users yet): a bootstrap user and key, written to {@code credentials.env}
     * (mode 0600) as the two variables the SDK and CLI read.
     *
     * @return true when it bootstrapped
     */
    public boolean bootstrapIfEmpty(Path credentialsFile, String baseUrl) throws IOException {
        if (!store.users().isEmpty()) {
            return false;
        }
        User admin = createUser(BOOTSTRAP_EMAIL, DEFAULT_SANDBOX_LIMIT);
        ApiKeys.Issued key = keys.issue(admin.id());
        // Written aside and renamed over, so a reader never sees a half-written file.
        Path partial = credentialsFile.resolveSibling(credentialsFile.getFileName() + ".partial");
        Files.deleteIfExists(partial);
        Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(partial, "CREATEOS_SANDBOX_BASE_URL=" + baseUrl + "\n"
                + "CREATEOS_SANDBOX_API_KEY=" + key.secret() + "\n", StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(partial, credentialsFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }
}
