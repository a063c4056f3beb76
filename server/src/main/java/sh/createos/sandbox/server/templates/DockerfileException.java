package sh.createos.sandbox.server.templates;

/** A Dockerfile the build cannot run: its message names the line (1-based; 0 for the file as a whole). */
public final class DockerfileException extends RuntimeException {
    private final int line;

    public DockerfileException(int line, String message) {
        super(line > 0 ? "Dockerfile line " + line + ": " + message : "Dockerfile: " + message);
        this.line = line;
    }

    public int line() {
        return line;
    }
}
