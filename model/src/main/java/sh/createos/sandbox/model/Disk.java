package sh.createos.sandbox.model;

/**
 * A user-registered S3 bucket (spec §4.15). Credentials are write-only: no response type carries them.
 */
public record Disk(String id, String name, String kind, Config config, String createdAt) {

    /** {@code use_path_style} forces path-style addressing (MinIO, R2 with custom domains). */
    public record Config(String bucket, String endpoint, String region, Boolean usePathStyle) {}

    /** Write-only; {@link #toString()} never shows the secret. */
    public record Credentials(String accessKey, String secretKey) {
        @Override
        public String toString() {
            return "Credentials[access_key=" + accessKey + ", secret_key=***]";
        }
    }

    /** Body of {@code POST /v1/disks}. */
    public record CreateRequest(String name, String kind, Config config, Credentials credentials) {}

    /** Body of {@code PATCH /v1/disks/{id_or_name}}: rotate credentials. */
    public record RotateRequest(Credentials credentials) {}

    /** Element of {@code GET /v1/sandboxes/{id}/disks}. */
    public record SandboxDisk(String diskId, String name, String kind, Config config, String mountPath,
                              String subPath, String mountStatus, String mountError) {}

    /** {@code POST /v1/sandboxes/{id}/disks} answers the sandbox id beside ok (gosdk and jsdk check the id). */
    public record AttachResponse(String id, boolean ok) {}

    /** {@code DELETE /v1/sandboxes/{id}/disks/{disk_id}}. */
    public record DetachResponse(boolean detached) {}

    /** {@code DELETE /v1/disks/{id_or_name}}. */
    public record DeletedResponse(boolean deleted) {}
}
