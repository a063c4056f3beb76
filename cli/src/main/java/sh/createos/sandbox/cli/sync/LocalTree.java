package sh.createos.sandbox.cli.sync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** The local side: a walk of the directory (hashes cached while size, mtime and inode stay), and its writes. */
public final class LocalTree {
    private final Path root;
    private final List<String> excludes;
    private final Map<String, Entry> hashCache = new HashMap<>();
    private IgnoreRules rules;
    /** Paths skipped in the last scan because they are symbolic links (reported once each). */
    final java.util.Set<String> symlinks = new java.util.TreeSet<>();

    public LocalTree(Path root, List<String> excludes) {
        this.root = root;
        this.excludes = excludes;
    }

    public Path root() {
        return root;
    }

    /** The rules of the last scan (the .gitignore files it found plus --exclude). */
    public IgnoreRules rules() {
        return rules;
    }

    /** Every directory and regular file under the root that no rule ignores, by slash-separated relative path. */
    public TreeMap<String, Entry> scan() throws IOException {
        IgnoreRules r = new IgnoreRules();
        r.addExcludes(excludes);
        TreeMap<String, Entry> out = new TreeMap<>();
        Files.createDirectories(root);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                String rel = rel(dir);
                if (!rel.isEmpty()) {
                    if (r.ignored(rel, true)) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    out.put(rel, Entry.directory());
                }
                r.addGitignore(dir, rel);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String rel = rel(file);
                if (attrs.isSymbolicLink()) {
                    if (!r.ignored(rel, false)) {
                        symlinks.add(rel);
                    }
                    return FileVisitResult.CONTINUE;
                }
                if (!attrs.isRegularFile() || r.ignored(rel, false)) {
                    return FileVisitResult.CONTINUE;
                }
                Object ino = Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
                String stamp = attrs.size() + ":" + attrs.lastModifiedTime() + ":" + ino;
                Entry cached = hashCache.get(rel);
                if (cached == null || !cached.stamp().equals(stamp)) {
                    try {
                        cached = new Entry(false, attrs.size(), stamp, hash(file));
                    } catch (NoSuchFileException gone) {
                        return FileVisitResult.CONTINUE; // deleted while we walked: the next round sees it
                    }
                    hashCache.put(rel, cached);
                }
                out.put(rel, cached);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException || e instanceof AccessDeniedException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        hashCache.keySet().retainAll(out.keySet());
        rules = r;
        return out;
    }

    /** The current entry of one path (null when absent), re-read just before sync overwrites or deletes it. */
    Entry current(String rel) throws IOException {
        Path p = path(rel);
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return Entry.directory();
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            return new Entry(false, Files.size(p), "", hash(p));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    Path path(String rel) {
        return root.resolve(rel);
    }

    /** Writes a file atomically: a temporary beside it (ignored by every scan), then a rename over it. */
    void write(String rel, InputStream content) throws IOException {
        Path target = path(rel);
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(IgnoreRules.TEMP_PREFIX + UUID.randomUUID());
        try {
            Files.copy(content, tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    void mkdir(String rel) throws IOException {
        Files.createDirectories(path(rel));
    }

    void move(String from, String to) throws IOException {
        Path target = path(to);
        Files.createDirectories(target.getParent());
        Files.move(path(from), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Deletes a file, or a directory when it is empty (one with new content stays; the next round carries it). */
    void delete(String rel) throws IOException {
        try {
            Files.deleteIfExists(path(rel));
        } catch (java.nio.file.DirectoryNotEmptyException keep) {
            // new files arrived in it: they are carried, and the directory with them
        }
    }

    private String rel(Path p) {
        return root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    }

    static String hash(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
