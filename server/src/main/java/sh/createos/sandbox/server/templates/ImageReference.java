package sh.createos.sandbox.server.templates;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code FROM} that names an image of an OCI registry: {@code registry/repository[:tag][@sha256:…]}. As in Docker,
 * the first path component is a registry when it contains a {@code .} or a {@code :}, or is {@code localhost};
 * {@code devbox:1} or {@code nodeops/sandbox} are not references of a registry.
 *
 * @param registry   {@code HOST[:PORT]}, lower case
 * @param repository the path within it
 * @param tag        the tag, {@code latest} when neither tag nor digest is given, or null with a digest only
 * @param digest     {@code sha256:…}, or null
 */
record ImageReference(String registry, String repository, String tag, String digest) {
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final Pattern REFERENCE = Pattern.compile("(?<registry>[^/]+)/(?<repo>" + COMPONENT + "(?:/"
            + COMPONENT + ")*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?");

    /**
     * The reference {@code from} names, empty when it names no registry.
     *
     * @throws IllegalArgumentException when it names a registry but is no valid reference
     */
    static Optional<ImageReference> parse(String from) {
        int slash = from.indexOf('/');
        if (slash <= 0) {
            return Optional.empty();
        }
        String first = from.substring(0, slash);
        if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) {
            return Optional.empty();
        }
        Matcher m = REFERENCE.matcher(from);
        if (!m.matches()) {
            throw new IllegalArgumentException("FROM " + from + " is not an image reference (REGISTRY/REPOSITORY[:TAG]"
                    + "[@sha256:DIGEST], the repository in lower case)");
        }
        String tag = m.group("tag");
        String digest = m.group("digest");
        return Optional.of(new ImageReference(m.group("registry").toLowerCase(Locale.ROOT), m.group("repo"),
                tag == null && digest == null ? "latest" : tag, digest));
    }

    /** As skopeo takes it after {@code docker://}: the digest wins over a tag (skopeo takes one or the other). */
    @Override
    public String toString() {
        return registry + "/" + repository + (digest != null ? "@" + digest : ":" + tag);
    }
}
