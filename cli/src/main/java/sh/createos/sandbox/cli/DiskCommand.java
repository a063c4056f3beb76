package sh.createos.sandbox.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.sdk.Disks;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb disk}: S3 buckets registered as disks, mounted into sandboxes. */
@Command(name = "disk", mixinStandardHelpOptions = true,
        description = "S3 buckets registered as disks and mounted into sandboxes (credentials are write-only).")
final class DiskCommand {
    static final List<Output.Column<Disks.Disk>> COLUMNS = List.of(
            new Output.Column<>("ID", Disks.Disk::id, false),
            new Output.Column<>("NAME", Disks.Disk::name, false),
            new Output.Column<>("BUCKET", d -> d.config() == null ? null : d.config().bucket(), false),
            new Output.Column<>("ENDPOINT", d -> d.config() == null ? null : d.config().endpoint(), false),
            new Output.Column<>("CREATED", Disks.Disk::createdAt, true));

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List disks.")
    int list() {
        try (SandboxClient c = CreateosCli.client()) {
            List<Disks.Disk> rows = new ArrayList<>();
            c.disks().list().forEach(rows::add);
            Output.rows(rows, COLUMNS, rows);
            return 0;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Register an S3 bucket as a disk.")
    int create(@Parameters(paramLabel = "NAME") String name,
               @Option(names = "--bucket", required = true, description = "the bucket") String bucket,
               @Option(names = "--endpoint", required = true, paramLabel = "URL", description = "the S3 endpoint") String endpoint,
               @Option(names = "--region", description = "the region") String region,
               @Option(names = "--path-style", description = "path-style addressing (MinIO and the like)") boolean pathStyle,
               @Option(names = "--access-key", required = true, paramLabel = "KEY", description = "access key id") String accessKey,
               @Option(names = "--secret-key", paramLabel = "SECRET",
                       description = "secret key (else the environment variable CREATEOS_DISK_SECRET_KEY)") String secretKey) {
        String secret = CreateosCli.first(secretKey, System.getenv("CREATEOS_DISK_SECRET_KEY"));
        if (secret == null) {
            throw new CliException(ExitCodes.USAGE, "--secret-key or CREATEOS_DISK_SECRET_KEY is required");
        }
        try (SandboxClient c = CreateosCli.client()) {
            Disks.Disk d = c.disks().create(name, new Disks.Config(bucket, endpoint, region, pathStyle ? true : null),
                    accessKey, secret);
            Output.action("created", Map.of("id", d.id(), "disk", d), "Registered disk " + d.id() + " (" + name + ")");
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a disk.")
    int get(@Parameters(paramLabel = "DISK") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Disks.Disk d = c.disks().get(ref);
            Output.rows(List.of(d), COLUMNS, d);
            return 0;
        }
    }

    @Command(name = "rm", aliases = "delete", mixinStandardHelpOptions = true, description = "Delete a disk (it must be detached everywhere).")
    int rm(@Parameters(paramLabel = "DISK") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            c.disks().delete(ref);
            Output.action("deleted", Map.of("id", ref), "Deleted disk " + ref);
            return 0;
        }
    }

    @Command(name = "attach", aliases = "mount", mixinStandardHelpOptions = true, description = "Mount a disk into a running sandbox.")
    int attach(@Parameters(index = "0", paramLabel = "SANDBOX") String sb,
               @Parameters(index = "1", paramLabel = "DISK") String disk,
               @Option(names = "--path", required = true, paramLabel = "MOUNT_PATH", description = "absolute mount point") String path,
               @Option(names = "--sub-path", paramLabel = "PREFIX", description = "a folder of the bucket") String sub) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, sb);
            Disks.SandboxDisk d = s.attachDisk(disk, path, sub);
            Output.action("attached", Map.of("id", s.id(), "disk", d), "Attached " + disk + " at " + path);
            return 0;
        }
    }

    @Command(name = "detach", aliases = "unmount", mixinStandardHelpOptions = true, description = "Unmount a disk from a sandbox.")
    int detach(@Parameters(index = "0", paramLabel = "SANDBOX") String sb,
               @Parameters(index = "1", paramLabel = "DISK") String disk,
               @Option(names = "--path", required = true, paramLabel = "MOUNT_PATH", description = "the mount point") String path) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, sb);
            s.detachDisk(disk, path);
            Output.action("detached", Map.of("id", s.id(), "disk_id", disk, "mount_path", path), "Detached " + disk);
            return 0;
        }
    }

    @Command(name = "mounts", mixinStandardHelpOptions = true, description = "A sandbox's mounted disks and their status.")
    int mounts(@Parameters(paramLabel = "SANDBOX") String sb) {
        try (SandboxClient c = CreateosCli.client()) {
            List<Disks.SandboxDisk> rows = SandboxCommand.resolve(c, sb).listDisks();
            Output.rows(rows, List.of(new Output.Column<Disks.SandboxDisk>("DISK", Disks.SandboxDisk::diskId, false),
                    new Output.Column<Disks.SandboxDisk>("NAME", Disks.SandboxDisk::name, false),
                    new Output.Column<Disks.SandboxDisk>("PATH", Disks.SandboxDisk::mountPath, false),
                    new Output.Column<Disks.SandboxDisk>("STATUS", Disks.SandboxDisk::mountStatus, false),
                    new Output.Column<Disks.SandboxDisk>("ERROR", Disks.SandboxDisk::mountError, true)), rows);
            return 0;
        }
    }
}
