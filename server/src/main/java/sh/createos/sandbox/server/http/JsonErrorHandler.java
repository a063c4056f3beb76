package sh.createos.sandbox.server.http;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import sh.createos.sandbox.model.Envelope;
import sh.createos.sandbox.model.Json;
import sh.createos.sandbox.server.Ulid;

/** Errors Jetty answers itself (a malformed request line, oversized headers…) in the same JSend shape as ours. */
public final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        int status = response.getStatus();
        Object message = request.getAttribute(ERROR_MESSAGE);
        String text = message == null ? HttpStatus.getMessage(status) : message.toString();
        Envelope<?> body;
        if (status >= 500) {
            body = Envelope.error(text, status);
        } else {
            Map<String, String> data = new LinkedHashMap<>();
            data.put("message", text);
            data.put("code", "HTTP_" + status);
            body = Envelope.fail(data);
        }
        byte[] bytes = Json.mapper().writeValueAsBytes(body);
        if (!response.getHeaders().contains("X-Request-Id")) {
            response.getHeaders().put("X-Request-Id", "req_" + Ulid.random());
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
        return true;
    }

}
