package sh.createos.sandbox.sdk;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/** Custom root filesystems built from a Dockerfile ({@link SandboxClient#templates()}). */
public final class Templates {
    private final Transport transport;

    Templates(Transport transport) {
        this.transport = transport;
    }

    /**
     * A template.
     *
     * @param id {@code tpl_…}
     * @param name its name (usable as a rootfs once ready)
     * @param base the base rootfs
     * @param status {@code pending}, {@code building}, {@code ready} or {@code failed}
     * @param ext4SizeBytes the image size, 0 until built
     * @param createdAt RFC 3339
     * @param builtAt RFC 3339 once ready, else null
     * @param dockerfile the Dockerfile (only from {@link #get(String, boolean)} with it asked for)
     */
    public record Template(String id, String name, String base, String status, long ext4SizeBytes, String createdAt,
            String builtAt, String dockerfile) {}

    /**
     * One line of a build log; the last one has {@code final_} true and the outcome in {@code status}.
     *
     * @param ts RFC 3339 or null
     * @param level log level or null
     * @param line the text or null
     * @param attempt the build attempt or null
     * @param final_ true on the terminal frame
     * @param status {@code ready} or {@code failed} on the terminal frame
     */
    public record LogEvent(String ts, String level, String line, Integer attempt,
            @com.fasterxml.jackson.annotation.JsonProperty("final") Boolean final_, String status) {}

    /** The followed log of a build: an iterator to close when done (closing drops the connection). */
    public static final class LogStream implements AutoCloseable, Iterator<LogEvent> {
        private final InputStream body;
        private final BufferedReader lines;
        private LogEvent next;
        private boolean ended;

        LogStream(InputStream body) {
            this.body = body;
            this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        }

        @Override
        public boolean hasNext() {
            if (next == null && !ended) {
                try {
                    String line;
                    do {
                        line = lines.readLine();
                    } while (line != null && line.isBlank());
                    if (line == null) {
                        ended = true;
                    } else {
                        next = Transport.JSON.readValue(line, LogEvent.class);
                    }
                } catch (IOException e) {
                    ended = true;
                    throw new ConnectionException("template log stream broke: " + e.getMessage(), e);
                }
            }
            return next != null;
        }

        @Override
        public LogEvent next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            LogEvent e = next;
            next = null;
            if (Boolean.TRUE.equals(e.final_())) {
                ended = true;
            }
            return e;
        }

        @Override
        public void close() {
            ended = true;
            try {
                body.close();
            } catch (IOException ignored) {
                // abandoning the stream
            }
        }
    }

    /** Every template, page by page. */
    public PagedIterable<Template> list() {
        return new PagedIterable<>(offset -> transport.data(new Transport.Call("GET", "/v1/templates")
                .query("limit", PagedIterable.PAGE_SIZE).query("offset", offset)),
                node -> Transport.convert(node, Transport.JSON.constructType(Template.class)));
    }

    /** Submits a build (asynchronous: follow it with {@link #followLogs(String)}); {@code base} may be null. */
    public Template create(String name, String dockerfile, String base) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("dockerfile", dockerfile);
        if (base != null) {
            body.put("base", base);
        }
        return transport.data(new Transport.Call("POST", "/v1/templates").json(body), Template.class);
    }

    /** A template. */
    public Template get(String id) {
        return get(id, false);
    }

    /** A template, with its Dockerfile when asked. */
    public Template get(String id, boolean includeDockerfile) {
        return transport.data(new Transport.Call("GET", "/v1/templates/" + Transport.segment(id))
                .query("include", includeDockerfile ? "dockerfile" : null), Template.class);
    }

    /** Deletes a template. */
    public void delete(String id) {
        transport.data(new Transport.Call("DELETE", "/v1/templates/" + Transport.segment(id)));
    }

    /** The build log so far, as text. */
    public String logs(String id) {
        try (InputStream in = transport.send(new Transport.Call("GET", "/v1/templates/" + Transport.segment(id)
                + "/logs")).body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConnectionException("reading the log of " + id + ": " + e.getMessage(), e);
        }
    }

    /** Follows the build log until the terminal frame; never retried. */
    public LogStream followLogs(String id) {
        return new LogStream(transport.send(new Transport.Call("GET", "/v1/templates/" + Transport.segment(id)
                + "/logs").query("follow", true).once().timeout(java.time.Duration.ZERO)).body());
    }
}
