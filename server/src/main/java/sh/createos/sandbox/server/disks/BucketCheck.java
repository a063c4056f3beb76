package sh.createos.sandbox.server.disks;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import sh.createos.sandbox.model.Disk;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The registration's check (spec §11.2): a HEAD of the bucket with the given credentials, from the server. The
 * answer is one of the reasons a mount fails too: bad credentials, unknown bucket, endpoint unreachable.
 */
final class BucketCheck {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private BucketCheck() {}

    /** Empty when the bucket answered; else why not, in words a user can act on. */
    static Optional<String> problem(Disk.Config config, Disk.Credentials credentials) {
        try (S3Client s3 = client(config, credentials)) {
            s3.headBucket(b -> b.bucket(config.bucket()));
            return Optional.empty();
        } catch (S3Exception e) {
            return Optional.of(switch (e.statusCode()) {
                case 401, 403 -> MountFailure.BAD_CREDENTIALS + ": the endpoint refused the access key or secret (HTTP "
                        + e.statusCode() + ")";
                case 404 -> MountFailure.UNKNOWN_BUCKET + ": no bucket '" + config.bucket() + "' at " + config.endpoint();
                case 301 -> "wrong region: bucket '" + config.bucket() + "' lives in another region (HTTP 301)";
                default -> "the endpoint answered HTTP " + e.statusCode() + " to a HEAD of bucket '" + config.bucket()
                        + "'";
            });
        } catch (SdkClientException e) {
            return Optional.of(MountFailure.UNREACHABLE + ": " + config.endpoint() + ": " + rootCause(e));
        }
    }

    /** An S3 client for the disk's endpoint: no retries, the JDK's HTTP client. */
    static S3Client client(Disk.Config config, Disk.Credentials credentials) {
        return S3Client.builder()
                .endpointOverride(URI.create(config.endpoint()))
                .region(Region.of(config.region() == null || config.region().isEmpty() ? "us-east-1" : config.region()))
                .forcePathStyle(Boolean.TRUE.equals(config.usePathStyle()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(credentials.accessKey(), credentials.secretKey())))
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(TIMEOUT).socketTimeout(TIMEOUT).build())
                .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none()))
                .build();
    }

    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
