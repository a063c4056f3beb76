package sh.createos.sandbox.server.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import sh.createos.sandbox.host.agent.AgentClient;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecSession;
import sh.createos.sandbox.host.agent.ExecStartException;
import sh.createos.sandbox.host.agent.ExitStatus;

/**
 * A buffered exec: runs to the end and captures stdout and stderr, each up to {@link #MAX_CAPTURE} bytes (the rest is
 * read and dropped, so a chatty command neither blocks nor exhausts the server's memory; {@code result.error} then
 * says so). The captured bytes are kept in fixed-size chunks and the JSON answer is written from them as it is
 * encoded, so one exec costs the server at most 2 × {@link #MAX_CAPTURE} of heap however its output escapes
 * ({@code \u0000} is six bytes of JSON per byte of output).
 */
final class BufferedExec {
    static final int MAX_CAPTURE = 4 * 1024 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final JsonFactory JSON = new JsonFactory();

    private BufferedExec() {}

    /** What the agent gave back; {@code error} is set when the command did not start or the output was cut. */
    record Result(Capture stdout, Capture stderr, int exitCode, String error) {
        /** Writes the JSend success envelope {@code {"status":"success","data":{"result":{…},"exec_ms":…}}}. */
        void write(OutputStream out, long execMs) throws IOException {
            try (JsonGenerator json = JSON.createGenerator(out)) {
                json.writeStartObject();
                json.writeStringField("status", "success");
                json.writeObjectFieldStart("data");
                json.writeObjectFieldStart("result");
                json.writeFieldName("stdout");
                stdout.writeTo(json);
                json.writeFieldName("stderr");
                stderr.writeTo(json);
                json.writeNumberField("exit_code", exitCode);
                if (error != null) {
                    json.writeStringField("error", error);
                }
                json.writeEndObject();
                json.writeNumberField("exec_ms", execMs);
                json.writeEndObject();
                json.writeEndObject();
            }
        }
    }

    static Result run(AgentClient agent, ExecRequest request) throws IOException {
        return run(agent, request, null);
    }

    /** With {@code stdin} (null = none) written to the command and closed. */
    static Result run(AgentClient agent, ExecRequest request, byte[] stdin) throws IOException {
        return run(agent, request, stdin, abort -> {});
    }

    /**
     * With a hook for the client's departure: {@code onClientGone} gets what ends the command (its session, so the
     * agent kills its process tree); the run then fails with an IOException.
     */
    static Result run(AgentClient agent, ExecRequest request, byte[] stdin,
            java.util.function.Consumer<Runnable> onClientGone) throws IOException {
        try (ExecSession session = agent.exec(request)) {
            onClientGone.accept(session::close);
            StdinFeeder.start(session, stdin);
            FutureTask<Capture> stderr = new FutureTask<>(() -> Capture.of(session.stderr()));
            Thread.ofVirtual().name("exec-stderr").start(stderr);
            Capture stdout = Capture.of(session.stdout());
            ExitStatus status = session.waitFor();
            Capture err = stderr.get();
            String truncated = stdout.truncated || err.truncated
                    ? "output truncated: at most " + MAX_CAPTURE + " bytes of each stream are kept"
                    + (stdout.truncated ? "; stdout had " + stdout.seen + " bytes" : "")
                    + (err.truncated ? "; stderr had " + err.seen + " bytes" : "") : null;
            return new Result(stdout, err, status.code(), truncated);
        } catch (ExecStartException e) {
            return new Result(Capture.EMPTY, Capture.EMPTY, ExecRoutes.START_FAILED_EXIT, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + request.argv());
        } catch (ExecutionException e) {
            throw new IOException("reading stderr of " + request.argv() + " failed: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /** Up to {@link #MAX_CAPTURE} bytes of one stream in chunks, and how many the stream really had. */
    static final class Capture {
        static final Capture EMPTY = new Capture(List.of(), 0, false);
        private final List<byte[]> chunks;
        final long seen;
        final boolean truncated;

        private Capture(List<byte[]> chunks, long seen, boolean truncated) {
            this.chunks = chunks;
            this.seen = seen;
            this.truncated = truncated;
        }

        static Capture of(InputStream in) throws IOException {
            List<byte[]> chunks = new ArrayList<>();
            byte[] chunk = new byte[CHUNK];
            int filled = 0;
            long kept = 0;
            long seen = 0;
            byte[] discard = null;
            while (true) {
                if (kept == MAX_CAPTURE) {
                    discard = discard == null ? new byte[CHUNK] : discard;
                    int n = in.read(discard);
                    if (n < 0) {
                        break;
                    }
                    seen += n;
                    continue;
                }
                int n = in.read(chunk, filled, (int) Math.min(chunk.length - filled, MAX_CAPTURE - kept));
                if (n < 0) {
                    break;
                }
                filled += n;
                kept += n;
                seen += n;
                if (filled == chunk.length) {
                    chunks.add(chunk);
                    chunk = new byte[CHUNK];
                    filled = 0;
                }
            }
            if (filled > 0) {
                chunks.add(java.util.Arrays.copyOf(chunk, filled));
            }
            return new Capture(chunks, seen, seen > kept);
        }

        /** As a JSON string, decoded as UTF-8 (malformed bytes become U+FFFD) while it is written. */
        void writeTo(JsonGenerator json) throws IOException {
            List<InputStream> parts = chunks.stream().map(c -> (InputStream) new ByteArrayInputStream(c)).toList();
            try (InputStreamReader text = new InputStreamReader(
                    new SequenceInputStream(Collections.enumeration(parts)), StandardCharsets.UTF_8)) {
                json.writeString(text, -1);
            }
        }
    }
}
