package sh.createos.sandbox.cli.sync;

/**
 * One path of a tree as sync sees it: a directory, or a file with its content hash. {@code stamp} (size, mtime,
 * inode) says when a cached hash is still good; it is not compared across sides.
 */
public record Entry(boolean dir, long size, String stamp, String hash) {
    static final String DIR = "dir";

    static Entry directory() {
        return new Entry(true, 0, "", DIR);
    }

    /** What the two sides must agree on: the kind and the content. */
    String content() {
        return dir ? DIR : hash;
    }
}
