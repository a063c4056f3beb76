package sh.createos.sandbox.host.agent;

/** A file's metadata in the guest; {@code type} is "file", "dir", "symlink" or "other"; {@code mode} holds the permission bits. */
public record FileStat(String name, String path, long size, int mode, String type, long mtimeMs) {
    public boolean isDirectory() {
        return "dir".equals(type);
    }

    public boolean isFile() {
        return "file".equals(type);
    }
}
