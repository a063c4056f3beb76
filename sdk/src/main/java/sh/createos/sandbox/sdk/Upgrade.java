package sh.createos.sandbox.sdk;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The HTTP/1.1 {@code Upgrade: tcp-tunnel} handshake of {@code /shell} and {@code /tunnel/{port}}: the JDK's
 * HttpClient cannot hand over a 101 connection, so this writes the one request and reads the status and headers;
 * a refusal becomes the usual typed exception. After the 101 the socket carries the raw protocol.
 */
final class Upgrade {
    private static final int MAX_HEADER = 64 * 1024;

    private Upgrade() {}

    static Socket open(Transport transport, String path) throws IOException {
        URI base = transport.base;
        boolean tls = base.getScheme().equals("https");
        int port = base.getPort() != -1 ? base.getPort() : tls ? 443 : 80;
        Socket socket;
        int connectTimeout = transport.timeout.isZero() ? 30_000 : (int) transport.timeout.toMillis();
        if (tls) {
            SSLSocket ssl = (SSLSocket) SSLSocketFactory.getDefault().createSocket();
            SSLParameters params = ssl.getSSLParameters();
            params.setApplicationProtocols(new String[] {"http/1.1"});
            params.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(params);
            socket = ssl;
        } else {
            socket = new Socket();
        }
        try {
            socket.connect(new InetSocketAddress(base.getHost(), port), connectTimeout);
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            String prefix = base.getRawPath() == null ? "" : base.getRawPath();
            String host = base.getHost() + (base.getPort() == -1 ? "" : ":" + base.getPort());
            String request = "POST " + prefix + path + " HTTP/1.1\r\n" + "Host: " + host + "\r\n"
                    + "X-Api-Key: " + transport.apiKey + "\r\n" + "User-Agent: " + transport.userAgent + "\r\n"
                    + "Connection: Upgrade\r\n" + "Upgrade: tcp-tunnel\r\n" + "Content-Length: 0\r\n\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            socket.setSoTimeout(connectTimeout);
            InputStream in = socket.getInputStream();
            List<String> head = readHead(in);
            socket.setSoTimeout(0);
            String[] statusLine = head.get(0).split(" ", 3);
            int status = Integer.parseInt(statusLine[1]);
            Map<String, List<String>> headers = headers(head);
            if (status == 101) {
                return socket;
            }
            byte[] body = readBody(in, headers);
            socket.close();
            throw Errors.from(status, HttpHeaders.of(headers, (a, b) -> true), body, "POST", path,
                    Transport.retryAfter(HttpHeaders.of(headers, (a, b) -> true)));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Reads byte by byte up to the blank line, so no protocol byte after the head is consumed. */
    private static List<String> readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int total = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed during the upgrade handshake");
            }
            if (++total > MAX_HEADER) {
                throw new IOException("upgrade response head larger than " + MAX_HEADER + " bytes");
            }
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                if (text.endsWith("\r")) {
                    text = text.substring(0, text.length() - 1);
                }
                if (text.isEmpty()) {
                    if (lines.isEmpty()) {
                        throw new IOException("empty upgrade response");
                    }
                    return lines;
                }
                lines.add(text);
                line.reset();
            } else {
                line.write(b);
            }
        }
    }

    private static Map<String, List<String>> headers(List<String> head) {
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String h : head.subList(1, head.size())) {
            int colon = h.indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(h.substring(0, colon).strip(), k -> new ArrayList<>())
                        .add(h.substring(colon + 1).strip());
            }
        }
        return headers;
    }

    private static byte[] readBody(InputStream in, Map<String, List<String>> headers) throws IOException {
        List<String> length = headers.get("content-length");
        if (length != null && !length.isEmpty()) {
            return in.readNBytes((int) Math.min(Long.parseLong(length.get(0)), MAX_HEADER));
        }
        return new byte[0];
    }

}
