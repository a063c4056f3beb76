package sh.createos.sandbox.server.sandbox;

import sh.createos.sandbox.server.DomainException;

/** Guest file paths must be absolute and clean: no empty, "." or ".." segments, no NUL. */
public final class GuestPaths {
    private GuestPaths() {}

    /** @throws DomainException 400 naming what is wrong with {@code path} */
    public static String require(String path) {
        if (path == null || path.isEmpty()) {
            throw DomainException.invalid("query parameter 'path' is required (an absolute guest path)");
        }
        if (!path.startsWith("/")) {
            throw DomainException.invalid("path '" + path + "' must be absolute");
        }
        if (path.indexOf('\0') >= 0) {
            throw DomainException.invalid("path must not contain NUL");
        }
        if (path.equals("/")) {
            throw DomainException.invalid("path '/' is a directory");
        }
        String[] segments = path.substring(1).split("/", -1);
        for (String segment : segments) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw DomainException.invalid("path '" + path + "' is not clean: no empty, '.' or '..' segments");
            }
        }
        return path;
    }
}
