package sh.createos.sandbox.server.disks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The reasons read from what s3fs 1.90 (Debian bookworm) writes when a mount fails. */
class MountFailureTest {
    @Test
    void badCredentialsFromS3fsCheckService() {
        String out = """
                <?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code></Error>
                2026-12-01T22:39:44.079Z [CRT] s3fs.cpp:s3fs_check_service(3590): invalid credentials(host=http://198.18.226.2:9000) - result of checking service.
                2026-12-01T22:39:44.079Z [ERR] s3fs.cpp:s3fs_exit_fuseloop(3372): Exiting FUSE event loop due to errors
                """;
        assertThat(MountFailure.explain(out)).isEqualTo("bad credentials: invalid credentials(host=http://198.18.226.2:9000)"
                + " - result of checking service. | Exiting FUSE event loop due to errors");
    }

    @Test
    void unknownBucketAndUnreachableEndpoint() {
        assertThat(MountFailure.explain("2026-12-01T22:00:00.000Z [CRT] s3fs.cpp:s3fs_check_service(3604): bucket not"
                + " found(host=http://h:9000) - result of checking service.")).startsWith("unknown bucket: bucket not found");
        assertThat(MountFailure.explain("2026-12-01T22:00:00.000Z [ERR] curl.cpp:RequestPerform(2416): ### "
                + "CURLE_COULDNT_CONNECT")).startsWith("endpoint unreachable: ");
        assertThat(MountFailure.explain("")).isEqualTo("s3fs exited without a message");
        assertThat(MountFailure.explain("fuse: mountpoint is not empty")).isEqualTo("fuse: mountpoint is not empty");
    }
}
