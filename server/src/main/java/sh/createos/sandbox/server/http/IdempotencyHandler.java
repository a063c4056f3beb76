package sh.createos.sandbox.server.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import sh.createos.sandbox.model.Envelope;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.IdempotencyStore;
import sh.createos.sandbox.server.store.User;

/**
 * {@code Idempotency-Key} on the POSTs that create or charge (sandbox create, fork, bandwidth recharge, network,
 * disk and template create): the first answer per key and user is stored for 24 h and replayed for a repeat; a
 * repeat with another body is 422 {@code IDEMPOTENCY_MISMATCH}; a repeat while the first is in flight waits for its
 * answer instead of running again. 429 and 503 mean "nothing was done", so they are not stored and a retry runs
 * afresh. Requests without the header pass straight through.
 */
public final class IdempotencyHandler extends Handler.Wrapper {
    public static final String HEADER = "Idempotency-Key";
    static final Duration RETENTION = Duration.ofHours(24);
    /** An in-flight row older than this belongs to a server that died mid-request. */
    static final Duration ABANDONED = Duration.ofMinutes(10);
    private static final Duration WAIT_FOR_FIRST = Duration.ofSeconds(55);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");
    private static final Pattern KEYED_PATHS = Pattern.compile(
            "/v1/(sandboxes|networks|disks|templates)|/v1/sandboxes/[^/]+/(fork|bandwidth/recharge)");
    private static final int MAX_BODY = 1 << 20;

    private final Authenticator authenticator;
    private final IdempotencyStore keys;
    private volatile long nextPurge;

    public IdempotencyHandler(Handler api, Authenticator authenticator, IdempotencyStore keys) {
        super(api);
        this.authenticator = authenticator;
        this.keys = keys;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String key = request.getHeaders().get(HEADER);
        String path = request.getHttpURI().getPath();
        if (key == null || !request.getMethod().equals("POST") || !KEYED_PATHS.matcher(path).matches()) {
            return super.handle(request, response, callback);
        }
        User user;
        try {
            user = authenticator.authenticate(request.getHeaders());
        } catch (RuntimeException unauthenticated) {
            return super.handle(request, response, callback); // the API answers 401 as always
        }
        if (!KEY.matcher(key).matches()) {
            return fail(response, callback, 400, ErrorCode.VALIDATION,
                    HEADER + " must be 1 to 255 visible ASCII characters");
        }
        byte[] body = Content.Source.asInputStream(request).readNBytes(MAX_BODY + 1);
        String fingerprint = fingerprint(request.getMethod(), path, body);
        purgeNowAndThen();
        long deadline = System.nanoTime() + WAIT_FOR_FIRST.toNanos();
        while (true) {
            long now = System.currentTimeMillis();
            if (keys.claim(user.id(), key, fingerprint, now)) {
                return runFirst(request, response, callback, user.id(), key, body);
            }
            IdempotencyStore.Entry entry = keys.find(user.id(), key).orElse(null);
            if (entry == null) {
                continue; // released between our claim and our read: claim again
            }
            if (!entry.fingerprint().equals(fingerprint)) {
                return fail(response, callback, 422, ErrorCode.IDEMPOTENCY_MISMATCH, HEADER + " '" + key
                        + "' was first used with a different request; use a new key for a new request");
            }
            boolean expired = now - entry.createdAt() > RETENTION.toMillis();
            boolean abandoned = entry.inFlight() && now - entry.createdAt() > ABANDONED.toMillis();
            if (expired || abandoned) {
                keys.release(user.id(), key);
                continue;
            }
            if (!entry.inFlight()) {
                return replay(response, callback, entry);
            }
            if (System.nanoTime() > deadline) {
                return fail(response, callback, 409, ErrorCode.INVALID_STATE, "the first request with "
                        + HEADER + " '" + key + "' is still in progress; retry later");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private boolean runFirst(Request request, Response response, Callback callback, String userId, String key,
            byte[] body) throws Exception {
        Capturing capturing = new Capturing(request, response);
        // Stored even when sending failed (the client went away): the work is done, and its retry must see it.
        Callback store = new Callback() {
            @Override
            public void succeeded() {
                try {
                    remember(userId, key, capturing);
                } finally {
                    callback.succeeded();
                }
            }

            @Override
            public void failed(Throwable failure) {
                try {
                    remember(userId, key, capturing);
                } finally {
                    callback.failed(failure);
                }
            }
        };
        try {
            return super.handle(new Replayed(request, body), capturing, store);
        } catch (Exception | Error e) {
            keys.release(userId, key);
            throw e;
        }
    }

    /** A whole answer is kept, unless it says nothing was done (429, 503); anything less frees the key. */
    private void remember(String userId, String key, Capturing capturing) {
        int status = capturing.getStatus();
        if (capturing.whole && status != 429 && status != 503) {
            keys.complete(userId, key, status, capturing.getHeaders().get(HttpHeader.CONTENT_TYPE),
                    capturing.captured.toString(StandardCharsets.UTF_8));
        } else {
            keys.release(userId, key);
        }
    }

    private static boolean replay(Response response, Callback callback, IdempotencyStore.Entry entry) {
        byte[] bytes = entry.body() == null ? new byte[0] : entry.body().getBytes(StandardCharsets.UTF_8);
        response.setStatus(entry.status());
        response.getHeaders().put("X-Request-Id", "req_" + Ulid.next());
        response.getHeaders().put("Idempotent-Replayed", "true");
        if (entry.contentType() != null) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, entry.contentType());
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }

    private static boolean fail(Response response, Callback callback, int status, ErrorCode code, String message)
            throws Exception {
        Map<String, String> data = new LinkedHashMap<>();
        data.put("message", message);
        data.put("code", code.wire());
        byte[] bytes = Json.mapper().writeValueAsBytes(Envelope.fail(data));
        response.setStatus(status);
        response.getHeaders().put("X-Request-Id", "req_" + Ulid.next());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }

    private void purgeNowAndThen() {
        long now = System.currentTimeMillis();
        if (now >= nextPurge) {
            nextPurge = now + Duration.ofMinutes(10).toMillis();
            keys.purgeBefore(now - RETENTION.toMillis());
        }
    }

    static String fingerprint(String method, String path, byte[] body) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((method + " " + path + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(body);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    /** The request again, its body served from the bytes already read for the fingerprint. */
    private static final class Replayed extends Request.Wrapper {
        private ByteBuffer remaining;

        Replayed(Request request, byte[] body) {
            super(request);
            this.remaining = ByteBuffer.wrap(body);
        }

        @Override
        public Content.Chunk read() {
            if (remaining == null) {
                return Content.Chunk.EOF;
            }
            ByteBuffer chunk = remaining;
            remaining = null;
            return Content.Chunk.from(chunk, true);
        }

        @Override
        public void demand(Runnable demandCallback) {
            demandCallback.run();
        }
    }

    /** The response as sent, with a copy of its (small, JSON) body for the store. */
    private static final class Capturing extends Response.Wrapper {
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        /** The handler wrote its last chunk: {@link #captured} is the whole body. */
        volatile boolean whole;

        Capturing(Request request, Response response) {
            super(request, response);
        }

        @Override
        public void write(boolean last, ByteBuffer content, Callback callback) {
            if (content != null && content.hasRemaining()) {
                ByteBuffer copy = content.slice();
                byte[] bytes = new byte[copy.remaining()];
                copy.get(bytes);
                captured.write(bytes, 0, bytes.length);
            }
            if (last) {
                whole = true;
            }
            super.write(last, content, callback);
        }
    }
}
