package sh.createos.sandbox.server;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;

/**
 * The data directory holds guest memory snapshots, disks, the database and credentials: it is 0700, and what the
 * server keeps of its sandboxes (vms/, pool/, layers/, templates/, built-images/, net/, the database, secret and credential files) loses
 * every group and other bit (files 0600, frozen layers 0400, directories 0700). Applied at every start, so a directory made by an older version is closed too; files made later
 * are private through the umask of the processes that write them (see {@code host.proc.Command}). The guest kit is
 * left as it is: it holds no secret and may be shared by hard links.
 */
final class DataDirPermissions {
    private static final List<String> PRIVATE_TREES = List.of("vms", "pool", "layers", "templates", "net", "built-images");

    private DataDirPermissions() {}

    static void secure(Path dataDir) throws IOException {
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        try (var entries = Files.list(dataDir)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (PRIVATE_TREES.contains(name)) {
                    closeTree(entry);
                } else if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)
                        && (name.startsWith("control.db") || name.endsWith(".env") || name.endsWith(".key"))) {
                    ownerOnly(entry);
                }
            }
        }
    }

    /** Drops group and other bits, keeps the owner's (a frozen layer stays read-only: 0400). */
    private static void ownerOnly(Path file) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
        perms.retainAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE));
        Files.setPosixFilePermissions(file, perms);
    }

    private static void closeTree(Path root) throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) { // sockets and links are left alone
                    ownerOnly(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
