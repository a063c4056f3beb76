package sh.createos.sandbox.host.agent;

public record PtySize(int rows, int cols) {
    public PtySize {
        if (rows <= 0 || cols <= 0 || rows > 65_535 || cols > 65_535) {
            throw new IllegalArgumentException("terminal size must be 1..65535 rows and columns, got " + rows + "x" + cols);
        }
    }
}
