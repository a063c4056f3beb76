package sh.createos.sandbox.server.ingress;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import sh.createos.sandbox.host.agent.DialConnection;
import sh.createos.sandbox.server.tunnel.DialTunnel;

/**
 * One proxied request over a fresh connection to the guest port: the request head is rewritten for the hop
 * ({@code Connection: close}, or the client's {@code Upgrade}; {@code X-Forwarded-*}), the body streams to the guest
 * on its own thread while the response (parsed by Jetty's {@link HttpParser}) streams back, so neither is ever held
 * whole. A {@code 101} answer turns the client connection into a {@link DialTunnel} (WebSocket and friends).
 */
final class GuestHttpForwarder {
    /** RFC 9110 §7.6.1 connection-specific fields, plus Expect: Jetty already answered the client's 100-continue. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization", "expect");
    private static final int CHUNK = 32_758;

    private final Request request;
    private final Response response;
    private final Callback callback;
    private final DialConnection dial;
    private final Runnable onTraffic;
    private final int port;
    private final String what;

    GuestHttpForwarder(Request request, Response response, Callback callback, DialConnection dial,
            Runnable onTraffic, String sandboxId, int port) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.dial = dial;
        this.onTraffic = onTraffic;
        this.port = port;
        this.what = sandboxId + ":" + port;
    }

    /** Forwards and answers; takes ownership of the dial (closed at the end, or handed to the tunnel). */
    void forward(boolean secure) {
        boolean upgrade = wantsUpgrade(request);
        boolean chunked = request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING);
        boolean hasBody = chunked || request.getLength() > 0;
        Thread bodyPump = null;
        boolean handedOver = false;
        try {
            OutputStream toGuest = dial.output();
            toGuest.write(head(upgrade, chunked, secure).getBytes(StandardCharsets.ISO_8859_1));
            if (hasBody) {
                bodyPump = Thread.ofVirtual().name("ingress-body " + what).start(() -> pumpBody(toGuest, chunked));
            }
            handedOver = relayResponse(upgrade);
        } catch (IOException | RuntimeException e) {
            if (response.isCommitted()) {
                callback.failed(e); // the only honest signal left once the status went out
            } else {
                IngressPages.badGateway(response, callback, "The service on port " + port
                        + " did not answer with HTTP (" + e.getMessage() + ")");
            }
        } finally {
            if (bodyPump != null) {
                bodyPump.interrupt();
            }
            if (!handedOver) {
                dial.close();
            }
        }
    }

    private String head(boolean upgrade, boolean chunked, boolean secure) {
        StringBuilder head = new StringBuilder(512);
        head.append(request.getMethod()).append(' ').append(request.getHttpURI().getPathQuery())
                .append(" HTTP/1.1\r\n");
        Set<String> listedInConnection = tokens(request.getHeaders().getValuesList(HttpHeader.CONNECTION));
        String forwardedFor = null;
        for (HttpField field : request.getHeaders()) {
            String name = field.getLowerCaseName();
            if (HOP_BY_HOP.contains(name) || listedInConnection.contains(name)) {
                continue;
            }
            if (name.equals("x-forwarded-for")) {
                forwardedFor = field.getValue();
                continue;
            }
            if (name.equals("x-forwarded-proto") || name.equals("x-forwarded-host")) {
                continue;
            }
            head.append(field.getName()).append(": ").append(field.getValue()).append("\r\n");
        }
        String client = Request.getRemoteAddr(request);
        head.append("X-Forwarded-For: ").append(forwardedFor == null ? client : forwardedFor + ", " + client)
                .append("\r\n");
        head.append("X-Forwarded-Proto: ").append(secure ? "https" : "http").append("\r\n");
        head.append("X-Forwarded-Host: ").append(request.getHeaders().get(HttpHeader.HOST)).append("\r\n");
        if (chunked) {
            head.append("Transfer-Encoding: chunked\r\n");
        }
        if (upgrade) {
            head.append("Connection: Upgrade\r\nUpgrade: ").append(request.getHeaders().get(HttpHeader.UPGRADE))
                    .append("\r\n");
        } else {
            head.append("Connection: close\r\n");
        }
        return head.append("\r\n").toString();
    }

    /** The client's body to the guest as it arrives, chunk-framed again when the client sent it chunked. */
    private void pumpBody(OutputStream toGuest, boolean chunked) {
        try (InputStream body = Content.Source.asInputStream(request)) {
            byte[] bytes = new byte[CHUNK];
            int n;
            while ((n = body.read(bytes)) >= 0) {
                if (n == 0) {
                    continue;
                }
                if (chunked) {
                    toGuest.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                }
                toGuest.write(bytes, 0, n);
                if (chunked) {
                    toGuest.write(CRLF);
                }
                onTraffic.run();
            }
            if (chunked) {
                toGuest.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            dial.close(); // the guest sees the request cut short, as the client's own connection was
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};

    /** @return true when the connection became a tunnel (the dial now belongs to it) */
    private boolean relayResponse(boolean upgradeRequested) throws IOException {
        ResponseRelay relay = new ResponseRelay();
        HttpParser parser = new HttpParser(relay);
        parser.setHeadResponse(request.getMethod().equals("HEAD"));
        InputStream fromGuest = dial.input();
        byte[] bytes = new byte[CHUNK];
        while (true) {
            int n = fromGuest.read(bytes);
            if (n < 0) {
                parser.atEOF();
                parser.parseNext(ByteBuffer.allocate(0));
                if (!relay.complete) {
                    throw new IOException("the connection closed before the response was complete");
                }
                relay.finish();
                return false;
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes, 0, n);
            while (buffer.hasRemaining()) {
                parser.parseNext(buffer);
                if (relay.switching) {
                    if (!upgradeRequested) {
                        throw new IOException("101 Switching Protocols without an upgrade request");
                    }
                    byte[] early = new byte[buffer.remaining()];
                    buffer.get(early);
                    switchToTunnel(relay, early);
                    return true;
                }
                if (relay.interim) {
                    relay.interim = false;
                    parser.reset(); // a 1xx before the real answer (e.g. 103): skip it
                } else if (relay.complete) {
                    relay.finish();
                    return false;
                }
            }
            relay.flush();
            onTraffic.run();
        }
    }

    private void switchToTunnel(ResponseRelay relay, byte[] fromGuestEarly) {
        response.setStatus(101);
        relay.headers.forEach(f -> response.getHeaders().add(f));
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, new DialTunnel(endPoint,
                request.getConnectionMetaData().getConnector().getExecutor(), dial, fromGuestEarly, onTraffic,
                what));
        callback.succeeded();
    }

    /** Receives the guest's response from the parser and writes it to the client as it comes. */
    private final class ResponseRelay implements HttpParser.ResponseHandler {
        private int status;
        private final List<HttpField> headers = new ArrayList<>();
        private OutputStream out;
        boolean switching;
        boolean interim;
        boolean complete;

        @Override
        public void startResponse(HttpVersion version, int status, String reason) {
            this.status = status;
            headers.clear();
        }

        @Override
        public void parsedHeader(HttpField field) {
            headers.add(field);
        }

        @Override
        public boolean headerComplete() {
            if (status == 101) {
                switching = true;
                return true;
            }
            if (status < 200) {
                interim = true;
                return true;
            }
            response.setStatus(status);
            Set<String> listed = tokens(headers.stream().filter(f -> f.is(HttpHeader.CONNECTION.asString()))
                    .map(HttpField::getValue).toList());
            for (HttpField field : headers) {
                String name = field.getLowerCaseName();
                if (!HOP_BY_HOP.contains(name) && !listed.contains(name)) {
                    response.getHeaders().add(field);
                }
            }
            out = new BufferedOutputStream(Content.Sink.asOutputStream(response), CHUNK);
            return false;
        }

        @Override
        public boolean content(ByteBuffer item) {
            try {
                out.write(item.array(), item.arrayOffset() + item.position(), item.remaining());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            item.position(item.limit());
            return false;
        }

        @Override
        public boolean contentComplete() {
            return false;
        }

        @Override
        public boolean messageComplete() {
            if (!interim) {
                complete = true;
            }
            return true;
        }

        @Override
        public void earlyEOF() {}

        @Override
        public void badMessage(HttpException failure) {
            throw new IllegalStateException("bad HTTP response: " + failure.getReason());
        }

        void flush() throws IOException {
            if (out != null) {
                out.flush();
            }
        }

        void finish() throws IOException {
            if (out == null) {
                throw new IOException("no response");
            }
            out.close();
            callback.succeeded();
        }
    }

    static boolean wantsUpgrade(Request request) {
        return request.getHeaders().contains(HttpHeader.UPGRADE)
                && tokens(request.getHeaders().getValuesList(HttpHeader.CONNECTION)).contains("upgrade");
    }

    private static Set<String> tokens(List<String> values) {
        return values.stream().flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .map(t -> t.trim().toLowerCase(Locale.ROOT)).filter(t -> !t.isEmpty()).collect(Collectors.toSet());
    }
}
