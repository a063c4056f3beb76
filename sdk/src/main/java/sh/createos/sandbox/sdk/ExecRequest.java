package sh.createos.sandbox.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A command for {@link Sandbox#runCommand(ExecRequest)} or {@link Sandbox#streamCommand(ExecRequest)}: {@code cmd}
 * runs directly (no shell) with {@code args}; {@code stdin} is written to it and then closed; {@code env}
 * overrides keys declared at create. The wire carries stdin as UTF-8 text (at most 8 MiB per request), so
 * binary stdin is refused here rather than corrupted; for endless or binary input use {@link Sandbox#processes()}.
 */
public final class ExecRequest {
    static final int MAX_STDIN = 8 << 20;
    private final String cmd;
    private final List<String> args;
    private final String stdin;
    private final Map<String, String> env;

    private ExecRequest(Builder b) {
        this.cmd = Objects.requireNonNull(b.cmd, "cmd");
        this.args = List.copyOf(b.args);
        this.stdin = b.stdin;
        this.env = Map.copyOf(b.env);
    }

    /** A builder for {@code cmd}. */
    public static Builder builder(String cmd) {
        return new Builder(cmd);
    }

    /** The executable. */
    public String cmd() {
        return cmd;
    }

    /** The arguments. */
    public List<String> args() {
        return args;
    }

    /** The stdin text, or null for none (EOF at once). */
    public String stdin() {
        return stdin;
    }

    /** The per-exec environment overrides. */
    public Map<String, String> env() {
        return env;
    }

    /** The JSON body; {@code stream} selects NDJSON. */
    Map<String, Object> body(boolean stream) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cmd", cmd);
        body.put("args", args);
        if (stdin != null) {
            body.put("stdin", stdin);
        }
        if (!env.isEmpty()) {
            body.put("env", env);
        }
        if (stream) {
            body.put("stream", true);
        }
        return body;
    }

    /** Collects the parts of an {@link ExecRequest}. */
    public static final class Builder {
        private final String cmd;
        private final List<String> args = new ArrayList<>();
        private String stdin;
        private final Map<String, String> env = new LinkedHashMap<>();

        private Builder(String cmd) {
            this.cmd = cmd;
        }

        /** Appends arguments. */
        public Builder args(String... args) {
            this.args.addAll(List.of(args));
            return this;
        }

        /** Appends arguments. */
        public Builder args(List<String> args) {
            this.args.addAll(args);
            return this;
        }

        /** Text for the command's stdin. */
        public Builder stdin(String text) {
            if (text.getBytes(StandardCharsets.UTF_8).length > MAX_STDIN) {
                throw new IllegalArgumentException("stdin larger than " + MAX_STDIN + " bytes");
            }
            this.stdin = text;
            return this;
        }

        /** UTF-8 bytes for the command's stdin. */
        public Builder stdin(byte[] utf8) {
            return stdin(decode(utf8));
        }

        /** Reads the stream (up to 8 MiB of UTF-8) for the command's stdin; the caller closes it. */
        public Builder stdin(InputStream in) {
            try {
                byte[] bytes = in.readNBytes(MAX_STDIN + 1);
                if (bytes.length > MAX_STDIN) {
                    throw new IllegalArgumentException("stdin larger than " + MAX_STDIN + " bytes");
                }
                return stdin(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The file's content (up to 8 MiB of UTF-8) for the command's stdin. */
        public Builder stdin(Path file) {
            try (InputStream in = Files.newInputStream(file)) {
                return stdin(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Overrides an environment variable declared at create. */
        public Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        /** The request. */
        public ExecRequest build() {
            return new ExecRequest(this);
        }

        private static String decode(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("exec stdin must be UTF-8 text (the wire carries a string); "
                        + "use processes() for binary input", e);
            }
        }
    }
}
