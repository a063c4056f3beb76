package sh.createos.sandbox.server.ssh;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SeekableByteChannel;

/** What the gateway's guest-file channels share: a position the client sets freely, a size, and an open flag. */
abstract class AgentChannel implements SeekableByteChannel {
    protected long position;
    protected long size;
    private boolean open = true;

    @Override
    public synchronized long position() throws IOException {
        ensureOpen();
        return position;
    }

    @Override
    public synchronized SeekableByteChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        position = newPosition;
        return this;
    }

    @Override
    public synchronized long size() throws IOException {
        ensureOpen();
        return size;
    }

    @Override
    public synchronized boolean isOpen() {
        return open;
    }

    /** Marks the channel closed; false when it already was. */
    protected final synchronized boolean markClosed() {
        boolean was = open;
        open = false;
        return was;
    }

    protected final void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }
}
