package sh.createos.sandbox.server.templates;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The keys of cached build steps. The state after instruction {@code i} is keyed by a hash chain:
 *
 * <pre>
 * key(0) = sha256("createos-template-cache/1", user id, base image name, base image identity, builder vcpus, memory, disk)
 * key(i) = sha256(key(i-1), canonical text of instruction i)
 * </pre>
 *
 * The base image identity is the image file (its content-hashed name, size and modification time) for a catalog
 * image, or the template id for a template base; the canonical text is the instruction after line continuations and
 * variable substitution (so ARG and ENV values in scope are part of it). The user id is in the key: builds never
 * share cached state across users (a shared cache would tell one user what another built). A {@code RUN} that
 * downloads something is cached like any other: change its text (or an ARG it uses) to run it again.
 */
final class BuildCache {
    private BuildCache() {}

    /** Keys after each instruction, index i = state after instruction i (index 0 = the booted base). */
    static List<String> keys(String userId, String baseImage, String baseIdentity, String builderShape,
                             List<Dockerfile.Instruction> instructions) {
        List<String> keys = new ArrayList<>();
        String key = sha256("createos-template-cache/1\n" + userId + "\n" + baseImage + "\n" + baseIdentity + "\n"
                + builderShape);
        keys.add(key);
        for (Dockerfile.Instruction instruction : instructions) {
            key = sha256(key + "\n" + instruction.canonical());
            keys.add(key);
        }
        return keys;
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
