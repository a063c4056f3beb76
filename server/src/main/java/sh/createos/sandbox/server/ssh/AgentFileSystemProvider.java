package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sh.createos.sandbox.host.agent.AgentException;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.agent.FileStat;

/**
 * NIO over the agent, so MINA's SFTP subsystem serves a guest's files as it would a local disk. Agent errors become
 * the NIO exceptions SFTP maps to its status codes (ENOENT → no such file, EEXIST → file exists, …). What the
 * file operations cannot do (chmod, times, symlinks, chown to a non-root login user) runs as a small exec.
 */
final class AgentFileSystemProvider extends FileSystemProvider {
    private static final int DEFAULT_FILE_MODE = 0644;

    @Override
    public String getScheme() {
        return "createos-agent";
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
        throw new UnsupportedOperationException("agent file systems are made by the SSH gateway");
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
        throw new UnsupportedOperationException("agent file systems are made by the SSH gateway");
    }

    @Override
    public Path getPath(URI uri) {
        throw new UnsupportedOperationException("agent file systems are made by the SSH gateway");
    }

    private static AgentPath agentPath(Path path) {
        if (path instanceof AgentPath p) {
            return p;
        }
        throw new IllegalArgumentException("not a guest path: " + path);
    }

    static FileStat stat(AgentPath path) throws IOException {
        AgentFileSystem fs = path.getFileSystem();
        String p = path.agentPath();
        FileStat cached = fs.cached(p);
        if (cached != null) {
            return cached;
        }
        try {
            FileStat stat = fs.agent().stat(p);
            fs.remember(stat);
            return stat;
        } catch (IOException e) {
            throw translate(p, e);
        }
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
            throws IOException {
        AgentPath file = agentPath(path);
        AgentFileSystem fs = file.getFileSystem();
        String p = file.agentPath();
        boolean write = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
        if (!write) {
            return new AgentReadChannel(fs, p);
        }
        FileStat existing = statOrNull(file);
        if (existing != null && existing.isDirectory()) {
            throw new FileSystemException(p, null, "is a directory");
        }
        if (existing != null && options.contains(StandardOpenOption.CREATE_NEW)) {
            throw new FileAlreadyExistsException(p);
        }
        if (existing == null) {
            if (!options.contains(StandardOpenOption.CREATE) && !options.contains(StandardOpenOption.CREATE_NEW)) {
                throw new NoSuchFileException(p);
            }
            AgentPath parent = file.toAbsolutePath().normalize().getParent();
            if (parent != null && !stat(parent).isDirectory()) {
                throw new NotDirectoryException(parent.agentPath());
            }
        }
        int mode = requestedMode(attrs, existing == null ? DEFAULT_FILE_MODE : existing.mode());
        fs.forget(p);
        boolean keepContent = existing != null && existing.size() > 0
                && !options.contains(StandardOpenOption.TRUNCATE_EXISTING);
        SeekableByteChannel channel = keepContent
                ? AgentWriteChannel.spooling(fs, p, mode, options.contains(StandardOpenOption.APPEND))
                : AgentWriteChannel.streaming(fs, p, mode);
        return existing == null && fs.chownTo() != null ? new ChownOnClose(channel, fs, p) : channel;
    }

    private static int requestedMode(FileAttribute<?>[] attrs, int fallback) {
        for (FileAttribute<?> attr : attrs) {
            if (attr.name().equals("posix:permissions") && attr.value() instanceof Set<?> set) {
                @SuppressWarnings("unchecked")
                Set<PosixFilePermission> permissions = (Set<PosixFilePermission>) set;
                return AgentFileAttributes.mode(permissions);
            }
        }
        return fallback;
    }

    private static FileStat statOrNull(AgentPath path) throws IOException {
        try {
            return stat(path);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
            throws IOException {
        AgentPath directory = agentPath(dir);
        AgentFileSystem fs = directory.getFileSystem();
        String p = directory.agentPath();
        List<FileStat> entries;
        try {
            entries = fs.agent().list(p);
        } catch (IOException e) {
            throw translate(p, e);
        }
        List<Path> paths = new ArrayList<>();
        for (FileStat entry : entries) {
            fs.remember(entry);
            Path child = directory.resolve(entry.name());
            if (filter == null || filter.accept(child)) {
                paths.add(child);
            }
        }
        return new DirectoryStream<>() {
            @Override
            public Iterator<Path> iterator() {
                return paths.iterator();
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        AgentPath directory = agentPath(dir);
        AgentFileSystem fs = directory.getFileSystem();
        String p = directory.agentPath();
        if (statOrNull(directory) != null) {
            throw new FileAlreadyExistsException(p);
        }
        try {
            fs.agent().mkdir(p, false);
        } catch (IOException e) {
            throw translate(p, e);
        } finally {
            fs.forget(p);
        }
        if (fs.chownTo() != null) {
            run(fs, p, "chown", fs.chownTo() + ":", "--", p);
        }
    }

    @Override
    public void delete(Path path) throws IOException {
        AgentPath target = agentPath(path);
        String p = target.agentPath();
        try {
            target.getFileSystem().agent().remove(p, false);
        } catch (IOException e) {
            throw translate(p, e);
        } finally {
            target.getFileSystem().forget(p);
        }
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        AgentPath from = agentPath(source);
        AgentPath to = agentPath(target);
        List<String> argv = new ArrayList<>(List.of("cp", "-P"));
        if (!Arrays.asList(options).contains(StandardCopyOption.REPLACE_EXISTING)) {
            argv.add("-n");
            if (statOrNull(to) != null) {
                throw new FileAlreadyExistsException(to.agentPath());
            }
        }
        argv.addAll(List.of("--", from.agentPath(), to.agentPath()));
        run(to.getFileSystem(), to.agentPath(), argv.toArray(String[]::new));
        to.getFileSystem().forget(to.agentPath());
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        AgentPath from = agentPath(source);
        AgentPath to = agentPath(target);
        AgentFileSystem fs = from.getFileSystem();
        List<CopyOption> opts = Arrays.asList(options);
        boolean replace = opts.contains(StandardCopyOption.REPLACE_EXISTING) || opts.contains(StandardCopyOption.ATOMIC_MOVE);
        if (!replace && statOrNull(to) != null) {
            throw new FileAlreadyExistsException(to.agentPath());
        }
        try {
            fs.agent().rename(from.agentPath(), to.agentPath());
        } catch (IOException e) {
            throw translate(from.agentPath(), e);
        } finally {
            fs.forget(from.agentPath());
            fs.forget(to.agentPath());
        }
    }

    @Override
    public boolean isSameFile(Path path, Path path2) {
        return agentPath(path).agentPath().equals(agentPath(path2).agentPath());
    }

    @Override
    public boolean isHidden(Path path) {
        Path name = path.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    @Override
    public FileStore getFileStore(Path path) {
        throw new UnsupportedOperationException("no file store information through the agent");
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        stat(agentPath(path)); // the agent acts as root: existence is the only check
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        if (type != BasicFileAttributeView.class && type != PosixFileAttributeView.class) {
            return null;
        }
        return type.cast(new View(agentPath(path), followLinks(options)));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
            throws IOException {
        if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
            throw new UnsupportedOperationException("attributes " + type.getName());
        }
        return (A) attributes(agentPath(path), followLinks(options));
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
            throws IOException {
        int colon = attributes.indexOf(':');
        String view = colon < 0 ? "basic" : attributes.substring(0, colon);
        if (!view.equals("basic") && !view.equals("posix")) {
            throw new UnsupportedOperationException("attribute view " + view);
        }
        Map<String, Object> all = attributes(agentPath(path), followLinks(options)).asMap(view);
        String names = colon < 0 ? attributes : attributes.substring(colon + 1);
        if (names.equals("*")) {
            return all;
        }
        Map<String, Object> picked = new java.util.LinkedHashMap<>();
        for (String name : names.split(",")) {
            if (all.containsKey(name)) {
                picked.put(name, all.get(name));
            }
        }
        return picked;
    }

    /** The stat of the path, or with {@code follow} of what a symlink points to (resolved in the guest). */
    private static AgentFileAttributes attributes(AgentPath path, boolean follow) throws IOException {
        FileStat stat = stat(path);
        if (follow && "symlink".equals(stat.type())) {
            String target = run(path.getFileSystem(), path.agentPath(), "readlink", "-e", "--", path.agentPath()).strip();
            stat = stat(path.getFileSystem().getPath(target));
        }
        return new AgentFileAttributes(stat);
    }

    private static boolean followLinks(LinkOption... options) {
        return !Arrays.asList(options).contains(LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        View view = new View(agentPath(path), followLinks(options));
        String name = attribute.substring(attribute.indexOf(':') + 1);
        switch (name) {
            case "permissions" -> {
                @SuppressWarnings("unchecked")
                Set<PosixFilePermission> permissions = (Set<PosixFilePermission>) value;
                view.setPermissions(permissions);
            }
            case "lastModifiedTime" -> view.setTimes((FileTime) value, null, null);
            case "lastAccessTime", "creationTime" -> { } // the agent keeps modification times only
            default -> throw new UnsupportedOperationException("setting " + attribute);
        }
    }

    @Override
    public Path readSymbolicLink(Path link) throws IOException {
        AgentPath path = agentPath(link);
        return path.getFileSystem().getPath(
                run(path.getFileSystem(), path.agentPath(), "readlink", "--", path.agentPath()).strip());
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException {
        AgentPath path = agentPath(link);
        run(path.getFileSystem(), path.agentPath(), "ln", "-s", "--", target.toString(), path.agentPath());
        path.getFileSystem().forget(path.agentPath());
    }

    /** A small helper command in the guest; its failure becomes a file-system error naming command and stderr. */
    static String run(AgentFileSystem fs, String path, String... argv) throws IOException {
        ExecResult result = fs.agent().run(ExecRequest.of(argv));
        if (result.exitCode() != 0) {
            String err = result.stderr().strip();
            if (err.contains("No such file")) {
                throw new NoSuchFileException(path, null, err);
            }
            throw new FileSystemException(path, null, String.join(" ", argv) + " exited " + result.exitCode()
                    + ": " + err);
        }
        return result.stdout();
    }

    /** Agent errors (errno names) as the NIO exceptions MINA's SFTP turns into status codes. */
    static IOException translate(String path, IOException e) {
        if (!(e instanceof AgentException agent)) {
            return e;
        }
        String message = e.getMessage();
        return switch (agent.code()) {
            case "ENOENT" -> new NoSuchFileException(path, null, message);
            case "EEXIST" -> new FileAlreadyExistsException(path, null, message);
            case "ENOTEMPTY" -> new DirectoryNotEmptyException(path);
            case "ENOTDIR" -> new NotDirectoryException(path);
            case "EACCES", "EPERM" -> new AccessDeniedException(path, null, message);
            default -> new FileSystemException(path, null, message);
        };
    }

    /** Permissions and modification time, set in the guest with chmod and touch. */
    private record View(AgentPath path, boolean follow) implements PosixFileAttributeView {
        @Override
        public String name() {
            return "posix";
        }

        @Override
        public PosixFileAttributes readAttributes() throws IOException {
            return attributes(path, follow);
        }

        @Override
        public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime)
                throws IOException {
            if (lastModifiedTime != null) {
                double seconds = lastModifiedTime.toMillis() / 1000.0;
                run(path.getFileSystem(), path.agentPath(), "touch", "-c", "-m", "-d", "@" + seconds, "--",
                        path.agentPath());
                path.getFileSystem().forget(path.agentPath());
            }
        }

        @Override
        public void setPermissions(Set<PosixFilePermission> perms) throws IOException {
            run(path.getFileSystem(), path.agentPath(), "chmod",
                    Integer.toOctalString(AgentFileAttributes.mode(perms)), "--", path.agentPath());
            path.getFileSystem().forget(path.agentPath());
        }

        @Override
        public void setOwner(UserPrincipal owner) {
            throw new UnsupportedOperationException("the gateway's SFTP does not change owners");
        }

        @Override
        public void setGroup(GroupPrincipal group) {
            throw new UnsupportedOperationException("the gateway's SFTP does not change owners");
        }

        @Override
        public UserPrincipal getOwner() throws IOException {
            return readAttributes().owner();
        }
    }
}
