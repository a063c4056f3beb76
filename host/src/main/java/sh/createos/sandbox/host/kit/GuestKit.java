package sh.createos.sandbox.host.kit;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a VM boots from, as recorded by {@code bin/createos-sandbox setup} in {@code <data>/kit/manifest.json}: the
 * kernel, the initramfs (busybox + modules + agent), the kernel's version, the read-only root filesystem images and
 * what the catalog says of each (description, deprecation).
 */
public record GuestKit(Path kernel, Path initrd, String kernelVersion, Map<String, Path> images,
        Map<String, ImageInfo> catalog) {
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public GuestKit {
        images = Map.copyOf(images);
        catalog = Map.copyOf(catalog);
    }

    /** A kit without catalog entries. */
    public GuestKit(Path kernel, Path initrd, String kernelVersion, Map<String, Path> images) {
        this(kernel, initrd, kernelVersion, images, Map.of());
    }

    /**
     * The catalog's word on an image: what it holds, and whether a newer version replaces it (a released image
     * never changes; new content is a new version, and the old one stays bootable), and whether it has a desktop
     * for computer use.
     */
    public record ImageInfo(String description, boolean deprecated, String successor, boolean desktop) {}

    /** What the catalog says of {@code name}; an image the manifest has no entry for has no description. */
    public ImageInfo info(String name) {
        return catalog.getOrDefault(name, new ImageInfo(null, false, null, false));
    }

    /** The manifest's JSON shape. */
    private record Manifest(
            String kernel,
            String initrd,
            @JsonProperty("kernel_version") String kernelVersion,
            Map<String, String> images,
            Map<String, ImageInfo> catalog) {}

    /** Reads {@code <dataDir>/kit/manifest.json}; fails clearly when setup has not run or left the kit incomplete. */
    public static GuestKit load(Path dataDir) throws IOException {
        Path manifestFile = dataDir.resolve("kit/manifest.json");
        Manifest manifest;
        try {
            manifest = JSON.readValue(Files.readAllBytes(manifestFile), Manifest.class);
        } catch (NoSuchFileException e) {
            throw new FileNotFoundException("no guest kit: " + manifestFile
                    + " does not exist; run `bin/createos-sandbox setup` to build the kernel, initramfs and images");
        } catch (IOException e) {
            throw new IOException("unreadable guest kit manifest " + manifestFile + ": " + e.getMessage(), e);
        }
        if (manifest.kernel() == null || manifest.initrd() == null || manifest.kernelVersion() == null
                || manifest.images() == null) {
            throw new IOException("incomplete guest kit manifest " + manifestFile
                    + ": needs kernel, initrd, kernel_version and images; run `bin/createos-sandbox setup` again");
        }
        Map<String, Path> images = new TreeMap<>();
        manifest.images().forEach((name, path) -> images.put(name, Path.of(path)));
        GuestKit kit = new GuestKit(Path.of(manifest.kernel()), Path.of(manifest.initrd()), manifest.kernelVersion(), images,
                manifest.catalog() == null ? Map.of() : manifest.catalog());
        kit.checkFilesExist(manifestFile);
        return kit;
    }

    /** The base image file of {@code name}, e.g. "devbox:1". */
    public Path image(String name) {
        Path path = images.get(name);
        if (path == null) {
            throw new IllegalArgumentException("unknown image '" + name + "'; the guest kit has " + images.keySet());
        }
        return path;
    }

    private void checkFilesExist(Path manifestFile) throws IOException {
        Map<String, Path> files = new TreeMap<>();
        files.put("kernel", kernel);
        files.put("initrd", initrd);
        images.forEach((name, path) -> files.put("image " + name, path));
        for (Map.Entry<String, Path> file : files.entrySet()) {
            if (!file.getValue().isAbsolute() || !Files.isRegularFile(file.getValue())) {
                throw new FileNotFoundException("guest kit " + manifestFile + " names " + file.getKey() + " "
                        + file.getValue() + ", which is not an existing absolute file; run `bin/createos-sandbox setup` again");
            }
        }
    }
}
