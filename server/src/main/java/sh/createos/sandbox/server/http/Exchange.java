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
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.eclipse.jetty.websocket.server.WebSocketCreator;
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
    private final Callback callback;
    private boolean callbackTaken;
    private boolean bodyRead;
    private Fields query;

    Exchange(Request request, Response response, String requestId, Map<String, String> params, User user,
            Callback callback) {
        this.callback = callback;
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
        bodyRead = bytes.length <= MAX_JSON_BODY;
        if (!bodyRead) {
            throw DomainException.invalid("JSON body larger than " + MAX_JSON_BODY + " bytes");
        }
        return parse(bytes, type);
    }

    /** Parses a JSON body of up to {@code maxBytes} (exec with stdin); a larger one is a 413. */
    public <T> T body(Class<T> type, int maxBytes) throws IOException {
        byte[] bytes = Content.Source.asInputStream(request).readNBytes(maxBytes + 1);
        bodyRead = bytes.length <= maxBytes;
        if (!bodyRead) {
            throw new ApiException(413, "PAYLOAD_TOO_LARGE", "JSON body larger than " + maxBytes + " bytes");
        }
        return parse(bytes, type);
    }

    private static <T> T parse(byte[] bytes, Class<T> type) throws IOException {
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
        bodyRead = true;
        return Content.Source.asInputStream(request);
    }

    /** 200 with {@code {"status":"success","data":…}}. */
    public void ok(Object data) throws IOException {
        send(200, Envelope.success(data));
    }

    /** Sends a complete JSON response with a Content-Length. */
    public void send(int status, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        closeIfBodyLeftUnread();
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
        closeIfBodyLeftUnread();
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        if (contentLength >= 0) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, contentLength);
        }
        return Content.Sink.asOutputStream(response);
    }

    /**
     * An answer given before the body was read (a 404 before judging the body, a 400 on an oversized one) leaves the
     * rest of the body on the connection; Jetty then closes it after the response, under a client that may already
     * be reusing it for its next request. Saying so in the response keeps the client from reusing it.
     */
    private void closeIfBodyLeftUnread() {
        boolean hasBody = request.getLength() > 0 || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        if (hasBody && !bodyRead) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    /**
     * Watches for the client going away while this request waits without writing (call after reading the body;
     * close before answering): see {@link DisconnectWatch}.
     */
    public DisconnectWatch watchDisconnect() {
        return DisconnectWatch.of(request, response);
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

    /**
     * Hands the request to Jetty's WebSocket upgrade; the endpoint {@code creator} makes takes the connection.
     *
     * @return false when the request is not a WebSocket upgrade (nothing was sent)
     */
    public boolean upgradeToWebSocket(WebSocketCreator creator) {
        ServerWebSocketContainer container = ServerWebSocketContainer.get(request.getContext());
        if (container == null) {
            throw new IllegalStateException("the server has no WebSocket container");
        }
        if (container.upgrade(creator, request, response, callback)) {
            callbackTaken = true;
            return true;
        }
        return false;
    }

    /** Jetty's upgrade completes the request's callback itself. */
    boolean callbackTaken() {
        return callbackTaken;
    }

    boolean committed() {
        return response.isCommitted();
    }
}
