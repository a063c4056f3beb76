package sh.createos.sandbox.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Fields;
import sh.createos.sandbox.model.Envelope;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.User;

/** One request as a handler sees it: decoded path and query parameters, the caller, and ways to answer. */
public final class Exchange {
    private static final int MAX_JSON_BODY = 1 << 20;
    private static final ObjectMapper JSON = Json.mapper();

    private final Request request;
    private final Response response;
    private final String requestId;
    private final Map<String, String> params;
    private final User user;
    private Fields query;

    Exchange(Request request, Response response, String requestId, Map<String, String> params, User user) {
        this.request = request;
        this.response = response;
        this.requestId = requestId;
        this.params = params;
        this.user = user;
    }

    public String requestId() {
        return requestId;
    }

    /** The authenticated caller; only routes registered with auth have one. */
    public User user() {
        return user;
    }

    public String param(String name) {
        return params.get(name);
    }

    /** A form-decoded query parameter ({@code +} is a space), or null when absent. */
    public String query(String name) {
        if (query == null) {
            try {
                query = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
                throw DomainException.invalid("malformed query string: " + e.getMessage());
            }
        }
        return query.getValue(name);
    }

    /** Parses the JSON body; a missing, oversized or malformed body is a 400. */
    public <T> T body(Class<T> type) throws IOException {
        byte[] bytes = Content.Source.asInputStream(request).readNBytes(MAX_JSON_BODY + 1);
        if (bytes.length > MAX_JSON_BODY) {
            throw DomainException.invalid("JSON body larger than " + MAX_JSON_BODY + " bytes");
        }
        if (bytes.length == 0 || new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            throw DomainException.invalid("a JSON object body is required");
        }
        if (!JSON.readTree(bytes).isObject()) {
            throw DomainException.invalid("the body must be a JSON object");
        }
        return JSON.readValue(bytes, type);
    }

    /** The raw request body, read as it arrives. */
    public InputStream bodyStream() {
        return Content.Source.asInputStream(request);
    }

    /** 200 with {@code {"status":"success","data":…}}. */
    public void ok(Object data) throws IOException {
        send(200, Envelope.success(data));
    }

    /** Sends a complete JSON response with a Content-Length. */
    public void send(int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(bytes);
        }
    }

    /**
     * Commits the status and headers and returns the body stream; every write goes out at once (chunked when
     * {@code contentLength} is negative). The caller closes it to end the response.
     */
    public OutputStream stream(int status, String contentType, long contentLength) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        if (contentLength >= 0) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, contentLength);
        }
        return Content.Sink.asOutputStream(response);
    }

    /** The value of a request header, or null. */
    public String header(String name) {
        return request.getHeaders().get(name);
    }

    /**
     * Answers {@code 101 Switching Protocols} with {@code Upgrade: token}; once the response is sent, Jetty hands the
     * connection to what {@code connection} makes of its endpoint.
     */
    public void switchProtocols(String token, BiFunction<EndPoint, Executor, Connection> connection) {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        Executor executor = request.getConnectionMetaData().getConnector().getExecutor();
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, connection.apply(endPoint, executor));
        response.setStatus(101);
        response.getHeaders().put(HttpHeader.UPGRADE, token);
        response.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
    }

    boolean committed() {
        return response.isCommitted();
    }
}
