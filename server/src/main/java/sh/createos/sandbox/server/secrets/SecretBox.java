package sh.createos.sandbox.server.secrets;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts secrets at rest (disk credentials, sandbox env values) with AES-256-GCM. The key is
 * {@code CREATEOS_SANDBOX_SECRET_KEY} (32 bytes, base64) when set, so several control-plane replicas share it;
 * otherwise {@code DATA_DIR/secret.key}, created 0600 on the first start. A sealed value is
 * {@code v1:<base64(iv ‖ ciphertext ‖ tag)>}; the associated data binds it to where it is stored (e.g. the row's
 * id and column), so a value copied into another row does not open.
 */
public final class SecretBox {
    public static final String ENV = "CREATEOS_SANDBOX_SECRET_KEY";
    private static final String PREFIX = "v1:";
    private static final int KEY_BYTES = 32;
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKey key;

    private SecretBox(byte[] key) {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a secret key has " + KEY_BYTES + " bytes, not " + key.length);
        }
        this.key = new SecretKeySpec(key, "AES");
    }

    /** The key of the environment, else the data directory's key file (created when missing). */
    public static SecretBox open(Path dataDir, Map<String, String> env) throws IOException {
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            try {
                return new SecretBox(Base64.getDecoder().decode(fromEnv.strip()));
            } catch (IllegalArgumentException e) {
                throw new IOException(ENV + " must be " + KEY_BYTES + " bytes in base64: " + e.getMessage());
            }
        }
        Path file = dataDir.resolve("secret.key");
        if (!Files.exists(file)) {
            byte[] fresh = new byte[KEY_BYTES];
            RANDOM.nextBytes(fresh);
            try {
                Files.createDirectories(dataDir);
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(file, Base64.getEncoder().encode(fresh), StandardOpenOption.TRUNCATE_EXISTING);
            } catch (FileAlreadyExistsException raced) {
                // another process made it first: read theirs
            }
        }
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        try {
            return new SecretBox(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " does not hold a " + KEY_BYTES + "-byte base64 key: " + e.getMessage());
        }
    }

    /** For tests and tools: a box with a given key. */
    public static SecretBox of(byte[] key) {
        return new SecretBox(key.clone());
    }

    public String seal(String plaintext, String associatedData) {
        byte[] iv = new byte[IV_BYTES];
        RANDOM.nextBytes(iv);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            return PREFIX + Base64.getEncoder().encodeToString(
                    ByteBuffer.allocate(IV_BYTES + sealed.length).put(iv).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    /** @throws SecretException when the value was not sealed with this key and associated data */
    public String open(String sealed, String associatedData) {
        if (sealed == null || !sealed.startsWith(PREFIX)) {
            throw new SecretException("not a sealed value");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new SecretException("a sealed value that is not base64");
        }
        if (bytes.length < IV_BYTES + TAG_BITS / 8) {
            throw new SecretException("a sealed value too short to hold its tag");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, bytes, 0, IV_BYTES));
            cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(bytes, IV_BYTES, bytes.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new SecretException("a sealed value that does not open with this key (another key, or moved)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    public static boolean isSealed(String value) {
        return value != null && value.startsWith(PREFIX);
    }

    /** A sealed value that cannot be opened. */
    public static final class SecretException extends RuntimeException {
        SecretException(String message) {
            super(message);
        }
    }
}
