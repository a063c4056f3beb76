package sh.createos.sandbox.server.ssh;

/**
 * The SSH user name: {@code SANDBOX} logs in as the image's default user, {@code USER+SANDBOX} as {@code USER}
 * ({@code root+web}, {@code node+01J…}). Sandbox names and ids never contain '+', so the last '+' separates.
 * {@code guestUser} null means the default user.
 */
public record LoginName(String guestUser, String sandbox) {
    private static final int MAX_LENGTH = 256;

    /** null when the name cannot be a login at all (empty parts, too long); it is refused like an unknown one. */
    public static LoginName parse(String username) {
        if (username == null || username.isEmpty() || username.length() > MAX_LENGTH) {
            return null;
        }
        int plus = username.lastIndexOf('+');
        if (plus < 0) {
            return new LoginName(null, username);
        }
        String user = username.substring(0, plus);
        String sandbox = username.substring(plus + 1);
        if (user.isEmpty() || sandbox.isEmpty() || !user.matches("[A-Za-z0-9._][A-Za-z0-9._-]*")) {
            return null;
        }
        return new LoginName(user, sandbox);
    }
}
