package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Collection;
import java.util.Set;
import org.apache.sshd.sftp.server.DirectoryHandle;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;

/**
 * MINA's SFTP defaults open files as {@code FileChannel}s and walk directories with secure directory streams, which
 * only a local disk has; here every operation goes to the agent file system's plain NIO calls. The agent resolves
 * paths in the guest itself, so the symlink races those defaults guard against on a shared host do not arise.
 */
final class AgentSftpAccessor implements SftpFileSystemAccessor {
    static final AgentSftpAccessor INSTANCE = new AgentSftpAccessor();

    @Override
    public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle handle, Path file, String id,
            Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        return file.getFileSystem().provider().newByteChannel(file, options, attrs);
    }

    @Override
    public void syncFileData(SftpSubsystemProxy subsystem, FileHandle handle, Path file, String id, Channel channel) {
        // the agent syncs when it renames the complete upload into place
    }

    @Override
    public DirectoryStream<Path> openDirectory(SftpSubsystemProxy subsystem, DirectoryHandle handle, Path dir,
            String id, LinkOption... options) throws IOException {
        return Files.newDirectoryStream(dir);
    }

    @Override
    public void createDirectory(SftpSubsystemProxy subsystem, Path path) throws IOException {
        Files.createDirectory(path);
    }

    @Override
    public void removeFile(SftpSubsystemProxy subsystem, Path path, boolean isDirectory) throws IOException {
        Files.delete(path);
    }

    @Override
    public void renameFile(SftpSubsystemProxy subsystem, Path oldPath, Path newPath, Collection<CopyOption> opts)
            throws IOException {
        Files.move(oldPath, newPath, opts.toArray(CopyOption[]::new));
    }

    @Override
    public void copyFile(SftpSubsystemProxy subsystem, Path src, Path dst, Collection<CopyOption> opts)
            throws IOException {
        Files.copy(src, dst, opts.toArray(CopyOption[]::new));
    }
}
