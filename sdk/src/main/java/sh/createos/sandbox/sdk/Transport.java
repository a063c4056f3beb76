package sh.createos.sandbox.sdk;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import sh.createos.sandbox.model.Json;

/** The HTTP side of the SDK: URIs, credentials, the retry loop, JSend envelopes and error mapping. */
final class Transport implements AutoCloseable {
    static final ObjectMapper JSON = Json.mapper();
    private static final Set<String> IDEMPOTENT_METHODS = Set.of("GET", "HEAD", "PUT", "DELETE");
    private static final int MAX_ERROR_BODY = 64 * 1024;

    final URI base;
    final String apiKey;
    final Duration timeout;
    final RetryPolicy retry;
    final String userAgent;
    final Executor executor;
    private final Consumer<RequestInfo> onRequest;
    private final Consumer<ResponseInfo> onResponse;
    private final HttpClient http;
    private final AutoCloseable ownedExecutor;

    Transport(URI base, String apiKey, Duration timeout, RetryPolicy retry, String userAgent,
            Consumer<RequestInfo> onRequest, Consumer<ResponseInfo> onResponse, Executor executor,
            AutoCloseable ownedExecutor) {
        this.base = base;
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.retry = retry;
        this.userAgent = userAgent;
        this.onRequest = onRequest;
        this.onResponse = onResponse;
        this.executor = executor;
        this.ownedExecutor = ownedExecutor;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout.isZero() ? Duration.ofSeconds(30) : timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** One logical call: everything needed to (re)build its attempts. */
    static final class Call {
        final String method;
        final String path;
        final Map<String, Object> query = new LinkedHashMap<>();
        Supplier<HttpRequest.BodyPublisher> body;
        String contentType;
        String idempotencyKey;
        boolean authenticated = true;
        boolean retryable = true;
        Duration timeout;

        Call(String method, String path) {
            this.method = method;
            this.path = path;
        }

        Call query(String name, Object value) {
            if (value != null) {
                query.put(name, value);
            }
            return this;
        }

        Call json(Object value) {
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            body = () -> HttpRequest.BodyPublishers.ofByteArray(bytes);
            contentType = "application/json";
            return this;
        }

        /** A fresh key per logical call, the same on every retry of it. */
        Call idempotent() {
            idempotencyKey = UUID.randomUUID().toString();
            return this;
        }

        Call noAuth() {
            authenticated = false;
            return this;
        }

        /** Overrides the client's per-attempt timeout (zero: none). */
        Call timeout(Duration t) {
            timeout = t;
            return this;
        }

        /** Streams: one attempt only. */
        Call once() {
            retryable = false;
            return this;
        }
    }

    static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    URI uri(String path, Map<String, Object> query) {
        StringBuilder s = new StringBuilder(base.toString()).append(path);
        StringJoiner q = new StringJoiner("&");
        query.forEach((k, v) -> q.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "="
                + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8)));
        if (q.length() > 0) {
            s.append('?').append(q);
        }
        return URI.create(s.toString());
    }

    /** The {@code data} of a success envelope. */
    JsonNode data(Call call) {
        HttpResponse<InputStream> response = send(call);
        try (InputStream in = response.body()) {
            byte[] bytes = in.readAllBytes();
            if (bytes.length == 0) {
                if (response.statusCode() == 204 || response.statusCode() == 205) {
                    return JSON.nullNode();
                }
                throw new SandboxException("empty response body from " + call.method + " " + call.path);
            }
            JsonNode envelope = JSON.readTree(bytes);
            if (!envelope.isObject() || !"success".equals(envelope.path("status").asText())) {
                throw new SandboxException("non-success envelope from " + call.method + " " + call.path);
            }
            return envelope.path("data");
        } catch (IOException e) {
            throw new ConnectionException("reading the response of " + call.method + " " + call.path + ": "
                    + e.getMessage(), e);
        }
    }

    <T> T data(Call call, Class<T> type) {
        return convert(data(call), JSON.constructType(type));
    }

    <T> T data(Call call, TypeReference<T> type) {
        return convert(data(call), JSON.constructType(type));
    }

    static <T> T convert(JsonNode node, JavaType type) {
        try {
            return JSON.treeToValue(node, type);
        } catch (IOException e) {
            throw new SandboxException("unexpected response shape: " + e.getMessage(), e);
        }
    }

    /**
     * Sends the call, retrying as the policy allows, and returns a 2xx response whose body is still unread (the
     * caller closes it). An error status becomes the matching {@link SandboxApiException}.
     */
    HttpResponse<InputStream> send(Call call) {
        if (call.authenticated && (apiKey == null || apiKey.isBlank())) {
            throw new SandboxException("no API key: set CREATEOS_SANDBOX_API_KEY (or CREATEOS_API_KEY) or "
                    + "SandboxClient.builder().apiKey(…)");
        }
        URI uri = uri(call.path, call.query);
        boolean idempotent = IDEMPOTENT_METHODS.contains(call.method) || call.idempotencyKey != null;
        for (int attempt = 0; ; attempt++) {
            boolean mayRetry = call.retryable && attempt < retry.maxRetries();
            HttpRequest request = request(call, uri);
            onRequest.accept(new RequestInfo(call.method, uri, attempt));
            long started = System.nanoTime();
            HttpResponse<InputStream> response;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (HttpTimeoutException e) {
                throw new RequestTimeoutException(call.method + " " + call.path + " got no response within "
                        + request.timeout().map(Duration::toString).orElse("the timeout"), e);
            } catch (IOException e) {
                if (mayRetry && idempotent) {
                    sleep(retry.backoff(attempt));
                    continue;
                }
                throw new ConnectionException(call.method + " " + call.path + " failed: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SandboxException("interrupted during " + call.method + " " + call.path, e);
            }
            int status = response.statusCode();
            String requestId = requestId(response.headers());
            onResponse.accept(new ResponseInfo(call.method, uri, attempt, status, requestId,
                    Duration.ofNanos(System.nanoTime() - started)));
            if (status >= 200 && status < 300) {
                return response;
            }
            byte[] body = drain(response);
            Duration retryAfter = retryAfter(response.headers());
            boolean retryStatus = status == 429 || status == 503
                    || (idempotent && (status == 408 || status == 500 || status == 502 || status == 504));
            if (mayRetry && retryStatus) {
                sleep(retryAfter != null ? retryAfter : retry.backoff(attempt));
                continue;
            }
            throw Errors.from(status, response.headers(), body, call.method, call.path, retryAfter);
        }
    }

    private HttpRequest request(Call call, URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        Duration t = call.timeout != null ? call.timeout : timeout;
        if (!t.isZero()) {
            b.timeout(t);
        }
        b.header("User-Agent", userAgent);
        if (call.authenticated) {
            b.header("X-Api-Key", apiKey);
        }
        if (call.idempotencyKey != null) {
            b.header("Idempotency-Key", call.idempotencyKey);
        }
        if (call.body != null) {
            b.header("Content-Type", call.contentType);
            b.method(call.method, call.body.get());
        } else {
            b.method(call.method, HttpRequest.BodyPublishers.noBody());
        }
        return b.build();
    }

    private static byte[] drain(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            return in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    static String requestId(HttpHeaders headers) {
        return headers.firstValue("X-Request-Id").or(() -> headers.firstValue("X-Fc-Request-Id")).orElse(null);
    }

    /** Delta-seconds or an HTTP-date; null when absent or unparsable. */
    static Duration retryAfter(HttpHeaders headers) {
        String value = headers.firstValue("Retry-After").map(String::strip).orElse(null);
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return Duration.ofMillis((long) (Double.parseDouble(value) * 1000));
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(ZonedDateTime.now(),
                        ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME));
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException notADate) {
                return null;
            }
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SandboxException("interrupted while waiting to retry", e);
        }
    }

    @Override
    public void close() {
        if (ownedExecutor != null) {
            try {
                ownedExecutor.close();
            } catch (Exception ignored) {
                // an executor that fails to shut down leaves only idle daemon threads behind
            }
        }
    }
}
