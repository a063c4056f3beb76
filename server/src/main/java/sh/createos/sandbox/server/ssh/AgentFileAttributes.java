package sh.createos.sandbox.server.ssh;

import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.sshd.sftp.server.DefaultGroupPrincipal;
import org.apache.sshd.sftp.server.DefaultUserPrincipal;
import sh.createos.sandbox.host.agent.FileStat;

/**
 * An agent {@code STAT} as NIO attributes. The agent reports no owner, so files show as root's (which they are
 * when the agent made them).
 */
record AgentFileAttributes(FileStat stat) implements PosixFileAttributes {
    private static final UserPrincipal ROOT = new DefaultUserPrincipal("root");
    private static final GroupPrincipal ROOT_GROUP = new DefaultGroupPrincipal("root");
    private static final PosixFilePermission[] BITS = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < BITS.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(BITS[i]);
            }
        }
        return set;
    }

    static int mode(Set<PosixFilePermission> permissions) {
        int mode = 0;
        for (int i = 0; i < BITS.length; i++) {
            if (permissions.contains(BITS[i])) {
                mode |= 1 << i;
            }
        }
        return mode;
    }

    /** The map form of {@code Files.readAttributes(path, "basic:*" | "posix:*")}. */
    Map<String, Object> asMap(String view) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("lastModifiedTime", lastModifiedTime());
        map.put("lastAccessTime", lastAccessTime());
        map.put("creationTime", creationTime());
        map.put("size", size());
        map.put("isRegularFile", isRegularFile());
        map.put("isDirectory", isDirectory());
        map.put("isSymbolicLink", isSymbolicLink());
        map.put("isOther", isOther());
        map.put("fileKey", fileKey());
        if (view.equals("posix")) {
            map.put("permissions", permissions());
            map.put("owner", owner());
            map.put("group", group());
        }
        return map;
    }

    @Override
    public FileTime lastModifiedTime() {
        return FileTime.fromMillis(stat.mtimeMs());
    }

    @Override
    public FileTime lastAccessTime() {
        return lastModifiedTime();
    }

    @Override
    public FileTime creationTime() {
        return lastModifiedTime();
    }

    @Override
    public boolean isRegularFile() {
        return stat.isFile();
    }

    @Override
    public boolean isDirectory() {
        return stat.isDirectory();
    }

    @Override
    public boolean isSymbolicLink() {
        return "symlink".equals(stat.type());
    }

    @Override
    public boolean isOther() {
        return "other".equals(stat.type());
    }

    @Override
    public long size() {
        return stat.size();
    }

    @Override
    public Object fileKey() {
        return null;
    }

    @Override
    public UserPrincipal owner() {
        return ROOT;
    }

    @Override
    public GroupPrincipal group() {
        return ROOT_GROUP;
    }

    @Override
    public Set<PosixFilePermission> permissions() {
        return permissions(stat.mode());
    }
}
