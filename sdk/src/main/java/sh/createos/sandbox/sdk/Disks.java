package sh.createos.sandbox.sdk;

import java.util.LinkedHashMap;
import java.util.Map;

/** S3 buckets the caller registered as disks ({@link SandboxClient#disks()}); credentials are write-only. */
public final class Disks {
    private final Transport transport;

    Disks(Transport transport) {
        this.transport = transport;
    }

    /**
     * Where a disk's bucket lives.
     *
     * @param bucket the bucket
     * @param endpoint the S3 endpoint URL
     * @param region the region, or null
     * @param usePathStyle path-style addressing (MinIO, R2 with custom domains), or null
     */
    public record Config(String bucket, String endpoint, String region, Boolean usePathStyle) {}

    /**
     * A registered disk.
     *
     * @param id {@code disk_…}
     * @param name its name
     * @param kind {@code s3}
     * @param config the bucket
     * @param createdAt RFC 3339
     */
    public record Disk(String id, String name, String kind, Config config, String createdAt) {}

    /**
     * A disk attached to a sandbox.
     *
     * @param diskId {@code disk_…}
     * @param name its name
     * @param kind {@code s3}
     * @param config the bucket
     * @param mountPath where it is mounted in the guest
     * @param subPath the bucket folder, or null for the root
     * @param mountStatus {@code pending}, {@code mounted}, {@code error}/{@code failed} or {@code unmounting}
     * @param mountError why mounting failed, or null
     */
    public record SandboxDisk(String diskId, String name, String kind, Config config, String mountPath,
            String subPath, String mountStatus, String mountError) {}

    /** Every disk, page by page. */
    public PagedIterable<Disk> list() {
        return new PagedIterable<>(offset -> transport.data(new Transport.Call("GET", "/v1/disks")
                .query("limit", PagedIterable.PAGE_SIZE).query("offset", offset)),
                node -> Transport.convert(node, Transport.JSON.constructType(Disk.class)));
    }

    /** Registers a bucket as a disk. */
    public Disk create(String name, Config config, String accessKey, String secretKey) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("kind", "s3");
        body.put("config", config);
        body.put("credentials", Map.of("access_key", accessKey, "secret_key", secretKey));
        return transport.data(new Transport.Call("POST", "/v1/disks").json(body), Disk.class);
    }

    /** A disk by id or name. */
    public Disk get(String idOrName) {
        return transport.data(new Transport.Call("GET", "/v1/disks/" + Transport.segment(idOrName)), Disk.class);
    }

    /** Rotates a disk's credentials. */
    public Disk rotateCredentials(String idOrName, String accessKey, String secretKey) {
        return transport.data(new Transport.Call("PATCH", "/v1/disks/" + Transport.segment(idOrName))
                .json(Map.of("credentials", Map.of("access_key", accessKey, "secret_key", secretKey))), Disk.class);
    }

    /** Deletes a detached disk. @throws ConflictException while it is attached */
    public void delete(String idOrName) {
        transport.data(new Transport.Call("DELETE", "/v1/disks/" + Transport.segment(idOrName)));
    }
}
