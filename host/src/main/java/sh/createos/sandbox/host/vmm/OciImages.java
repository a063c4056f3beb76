package sh.createos.sandbox.host.vmm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import sh.createos.sandbox.host.proc.Command;

/**
 * Base images pulled from OCI registries, turned into bootable images beside the built ones: {@code skopeo copy}
 * fetches the image into an OCI layout, {@code umoci unpack} (as root, into a private directory) lays its rootfs
 * out, {@code mkfs.ext4 -d} makes the filesystem and {@code qemu-img convert} the read-only qcow2 file that
 * {@link BuiltImages} registers as {@code oci-<digest>}. Nothing of the image is executed on the host: skopeo and
 * umoci only read and write files (umoci resolves every path inside the rootfs, so a symlink cannot make it write
 * outside; device nodes it creates end up inside the guest's filesystem, where the guest's root could make them
 * anyway). The agent is PID 1 from the initramfs, so a rootfs needs nothing but {@code /bin/sh} for RUN and
 * {@code sync}. Pulled bases are cached by manifest digest, with the image's config beside them.
 */
public final class OciImages {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "oci-";
    /** Mount points the initramfs and the agent need in any root filesystem. */
    private static final List<String> MOUNT_POINTS = List.of("run", "proc", "sys", "dev", "tmp", "etc");

    /** What a sandbox from the image starts with (its OCI config), the image's name here and its digest. */
    public record Pulled(String image, String digest, Map<String, String> env, String workdir, String user,
                         List<String> cmd, List<String> entrypoint, List<String> exposedPorts,
                         Map<String, String> labels, boolean cached) {}

    private final BuiltImages built;
    private final Path work;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    OciImages(Path dataDir, BuiltImages built) {
        this.built = built;
        this.work = dataDir.toAbsolutePath().normalize().resolve("oci-work");
    }

    /**
     * The image {@code reference} ({@code host[:port]/repo[:tag|@sha256:…]}) as a bootable image, pulled unless its
     * digest was pulled before.
     *
     * @param plainHttp the registry is spoken to over plain HTTP (or TLS unverified): a loopback test registry
     * @param maxBytes  the largest image accepted, compressed layers and unpacked files alike
     * @param log       progress lines for the build's log
     * @throws IOException naming the failed command and its stderr, or the limit that was passed
     */
    public Pulled pull(String reference, boolean plainHttp, Duration timeout, long maxBytes, Consumer<String> log)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String tls = "--tls-verify=" + !plainHttp;
        JsonNode inspect = JSON.readTree(Command.of("skopeo", "inspect", tls, "docker://" + reference)
                .timeout(left(deadline, reference)).run().stdout());
        String digest = inspect.path("Digest").asText("");
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IOException("skopeo inspect docker://" + reference + " gave no sha256 digest: " + digest);
        }
        long compressed = 0;
        for (JsonNode layer : inspect.path("LayersData")) {
            compressed += layer.path("Size").asLong(0);
        }
        if (compressed > maxBytes) {
            throw new IOException("image " + reference + " has " + mib(compressed) + " MiB of layers, above the limit"
                    + " of " + mib(maxBytes) + " MiB (setting pull_mib)");
        }
        String name = PREFIX + digest.substring("sha256:".length(), "sha256:".length() + 32);
        synchronized (locks.computeIfAbsent(name, n -> new Object())) {
            Path configFile = built.directory().resolve(name + ".config.json");
            if (built.file(name) != null && Files.exists(configFile)) {
                log.accept("base " + reference + " is " + digest + ": using the image pulled before (" + name + ")");
                return pulled(name, digest, JSON.readTree(configFile.toFile()), true);
            }
            String pinned = repository(reference) + "@" + digest; // the tag may move while we pull
            log.accept("pulling " + pinned + " (" + mib(compressed) + " MiB of layers)");
            Files.createDirectories(work);
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx------"));
            Path tmp = Files.createTempDirectory(work, name + "-");
            try {
                Path layout = tmp.resolve("layout");
                Command.of("skopeo", "copy", "--quiet", "--src-tls-verify=" + !plainHttp, "docker://" + pinned,
                        "oci:" + layout + ":base").timeout(left(deadline, reference)).run();
                JsonNode config = imageConfig(layout);
                Path bundle = tmp.resolve("bundle");
                Command.of("umoci", "unpack", "--image", layout + ":base", bundle.toString())
                        .timeout(left(deadline, reference)).run();
                Path rootfs = bundle.resolve("rootfs");
                long files = apparentSize(rootfs);
                if (files > maxBytes) {
                    throw new IOException("image " + reference + " unpacks to " + mib(files) + " MiB, above the limit"
                            + " of " + mib(maxBytes) + " MiB (setting pull_mib)");
                }
                for (String dir : MOUNT_POINTS) {
                    Path p = rootfs.resolve(dir);
                    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectory(p);
                        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                                dir.equals("tmp") ? "rwxrwxrwx" : "rwxr-xr-x"));
                    }
                }
                // Room for the first writes; the agent grows the filesystem to the disk (grow_fs).
                long sizeMib = mib(files) + mib(files) / 10 + 256;
                Path ext4 = tmp.resolve("rootfs.ext4");
                Command.of("truncate", "-s", sizeMib + "M", ext4.toString()).run();
                Command.of("mkfs.ext4", "-q", "-F", "-t", "ext4", "-m", "0", "-E", "root_owner=0:0", "-d",
                        rootfs.toString(), ext4.toString()).timeout(left(deadline, reference)).run();
                Path qcow2 = tmp.resolve("rootfs.qcow2");
                Command.of("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", ext4.toString(), qcow2.toString())
                        .timeout(left(deadline, reference)).run();
                built.register(name, qcow2);
                Files.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(config));
                Files.move(tmp.resolve("config.json"), configFile, StandardCopyOption.REPLACE_EXISTING);
                log.accept("base " + name + ": " + mib(files) + " MiB of files in a " + sizeMib + " MiB filesystem");
                return pulled(name, digest, config, false);
            } finally {
                deleteTree(tmp);
            }
        }
    }

    /** The image's config ({@code config} of the config blob) from the OCI layout skopeo wrote. */
    private static JsonNode imageConfig(Path layout) throws IOException {
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode manifest = JSON.readTree(blob(layout, index.path("manifests").path(0).path("digest").asText()));
        return JSON.readTree(blob(layout, manifest.path("config").path("digest").asText())).path("config");
    }

    private static java.io.File blob(Path layout, String digest) throws IOException {
        if (!digest.matches("sha256:[0-9a-f]{64}")) {
            throw new IOException("the OCI layout of the pulled image names a bad digest '" + digest + "'");
        }
        return layout.resolve("blobs/sha256").resolve(digest.substring(7)).toFile();
    }

    private static Pulled pulled(String name, String digest, JsonNode config, boolean cached) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : config.path("Env")) {
            String kv = e.asText();
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        String user = config.path("User").asText("");
        if (user.contains(":")) {
            user = user.substring(0, user.indexOf(':'));
        }
        List<String> ports = new ArrayList<>();
        config.path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
        Map<String, String> labels = new LinkedHashMap<>();
        config.path("Labels").fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
        String workdir = config.path("WorkingDir").asText("");
        return new Pulled(name, digest, env, workdir.isEmpty() ? null : workdir, user.isEmpty() ? null : user,
                strings(config.path("Cmd")), strings(config.path("Entrypoint")), ports, labels, cached);
    }

    private static List<String> strings(JsonNode array) {
        if (!array.isArray()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** {@code host/repo} of {@code host/repo:tag} or {@code host/repo@sha256:…}. */
    static String repository(String reference) {
        int at = reference.indexOf('@');
        String noDigest = at >= 0 ? reference.substring(0, at) : reference;
        int slash = noDigest.lastIndexOf('/');
        int colon = noDigest.lastIndexOf(':');
        return colon > slash ? noDigest.substring(0, colon) : noDigest;
    }

    private static Duration left(long deadline, String reference) throws IOException {
        long nanos = deadline - System.nanoTime();
        if (nanos <= 0) {
            throw new IOException("the time limit ran out while pulling " + reference);
        }
        return Duration.ofNanos(nanos);
    }

    private static long apparentSize(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    private static void deleteTree(Path dir) {
        try {
            Command.of("rm", "-rf", "--one-file-system", dir.toString()).timeout(Duration.ofMinutes(5)).run();
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(OciImages.class).warn("removing {}: {}", dir, e.getMessage());
        }
    }
}
