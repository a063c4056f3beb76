package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;

/** A file a non-root login creates over SFTP: the agent writes it as root, so hand it to the login user after. */
final class ChownOnClose implements SeekableByteChannel {
    private final SeekableByteChannel channel;
    private final AgentFileSystem fs;
    private final String path;

    ChownOnClose(SeekableByteChannel channel, AgentFileSystem fs, String path) {
        this.channel = channel;
        this.fs = fs;
        this.path = path;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public long position() throws IOException {
        return channel.position();
    }

    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
        channel.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public SeekableByteChannel truncate(long size) throws IOException {
        channel.truncate(size);
        return this;
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        boolean wasOpen = channel.isOpen();
        channel.close();
        if (wasOpen) {
            AgentFileSystemProvider.run(fs, path, "chown", fs.chownTo() + ":", "--", path);
        }
    }
}
