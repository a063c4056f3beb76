package sh.createos.sandbox.server.sandbox;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sh.createos.sandbox.server.DomainException;

/**
 * OpenSSH public keys ({@code type base64 [comment]}): the base64 blob must decode and start with the same key
 * type, as every OpenSSH key blob does. Two keys are the same key when type and blob match, whatever the comment.
 */
public final class SshPublicKeys {
    private static final Set<String> TYPES = Set.of("ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
            "sk-ecdsa-sha2-nistp256@openssh.com");
    private static final int MAX_KEYS = 100;

    private SshPublicKeys() {}

    /** {@code existing} plus the valid new {@code keys}, de-duplicated, in first-seen order. */
    public static List<String> merge(List<String> existing, List<String> keys) {
        if (keys == null || keys.isEmpty()) {
            throw DomainException.invalid("'keys' must be a non-empty array of OpenSSH public keys");
        }
        Map<String, String> byIdentity = new LinkedHashMap<>();
        for (String key : existing) {
            byIdentity.putIfAbsent(identity(key), key);
        }
        for (String key : keys) {
            String normalized = validate(key);
            byIdentity.putIfAbsent(identity(normalized), normalized);
        }
        if (byIdentity.size() > MAX_KEYS) {
            throw DomainException.invalid("a sandbox holds at most " + MAX_KEYS + " SSH keys");
        }
        return new ArrayList<>(byIdentity.values());
    }

    /** @return the key with surrounding whitespace removed and single spaces between its fields */
    public static String validate(String key) {
        if (key == null || key.isBlank()) {
            throw DomainException.invalid("empty SSH public key");
        }
        String[] fields = key.strip().split("\\s+", 3);
        if (fields.length < 2 || !TYPES.contains(fields[0])) {
            throw DomainException.invalid("not an OpenSSH public key (want 'TYPE BASE64 [comment]' with TYPE one of "
                    + TYPES + "): " + abbreviate(key));
        }
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(fields[1]);
        } catch (IllegalArgumentException e) {
            throw DomainException.invalid("SSH public key has invalid base64: " + abbreviate(key));
        }
        if (!fields[0].equals(blobType(blob))) {
            throw DomainException.invalid("SSH public key blob does not match its type " + fields[0] + ": "
                    + abbreviate(key));
        }
        return String.join(" ", fields);
    }

    private static String blobType(byte[] blob) {
        if (blob.length < 4) {
            return null;
        }
        int length = ByteBuffer.wrap(blob).getInt();
        if (length <= 0 || length > blob.length - 4) {
            return null;
        }
        return new String(blob, 4, length, StandardCharsets.US_ASCII);
    }

    private static String identity(String key) {
        String[] fields = key.split(" ", 3);
        return fields.length < 2 ? key : fields[0] + " " + fields[1];
    }

    private static String abbreviate(String key) {
        return key.length() > 40 ? key.substring(0, 40) + "…" : key;
    }
}
