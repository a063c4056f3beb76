package sh.createos.sandbox.host.vmm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The two fields of a qcow2 header that disk layering needs: the virtual size and the backing file. Read directly
 * (a few bytes) rather than through {@code qemu-img info}, because garbage collection reads every layer's header.
 */
record Qcow2Header(long virtualSize, Optional<Path> backingFile) {
    private static final int MAGIC = 0x514649fb; // "QFI\xfb"
    private static final int HEADER_BYTES = 32;
    private static final int MAX_BACKING_NAME = 1023;

    static Qcow2Header read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
            readFully(channel, header, 0, file);
            if (header.getInt(0) != MAGIC) {
                throw new IOException(file + " is not a qcow2 image");
            }
            long backingOffset = header.getLong(8);
            int backingSize = header.getInt(16);
            long size = header.getLong(24);
            if (backingOffset == 0 || backingSize == 0) {
                return new Qcow2Header(size, Optional.empty());
            }
            if (backingSize < 0 || backingSize > MAX_BACKING_NAME) {
                throw new IOException(file + ": bad backing file name length " + backingSize);
            }
            ByteBuffer name = ByteBuffer.allocate(backingSize);
            readFully(channel, name, backingOffset, file);
            Path backing = Path.of(new String(name.array(), StandardCharsets.UTF_8));
            // A relative backing name is relative to the image's own directory.
            return new Qcow2Header(size, Optional.of(file.toAbsolutePath().getParent().resolve(backing).normalize()));
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException(file + ": truncated qcow2 header");
            }
        }
    }
}
