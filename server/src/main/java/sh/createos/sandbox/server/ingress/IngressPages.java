package sh.createos.sandbox.server.ingress;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** The small HTML pages the ingress answers itself: nothing to route to (404), nothing answering (502). */
final class IngressPages {
    private IngressPages() {}

    static void notFound(Response response, Callback callback, String host) {
        send(response, callback, 404, "No sandbox here",
                "No sandbox serves <code>" + escape(host) + "</code>. The sandbox does not exist, its ingress is "
                        + "disabled (<code>ingress_enabled</code>), or it is not running (paused or destroyed).");
    }

    static void badGateway(Response response, Callback callback, String detail) {
        send(response, callback, 502, "Nothing answered", escape(detail)
                + ". Start a server on that port inside the sandbox (listening on 0.0.0.0 or 127.0.0.1).");
    }

    private static void send(Response response, Callback callback, int status, String title, String html) {
        byte[] body = ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + status + " " + title
                + "</title></head>\n<body><h1>" + title + "</h1>\n<p>" + html + "</p></body></html>\n")
                .getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    static String escape(String text) {
        if (text == null) {
            return "";
        }
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
