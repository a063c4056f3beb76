package sh.createos.sandbox.host.net;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The services of a fake "outside" host, run inside a network namespace by {@link ExternalHost}: an authoritative
 * DNS server for a tiny zone (UDP and TCP 53), an HTTP server on 80 ({@code /hello}, {@code /bytes?n=N},
 * {@code POST /sink}, {@code /udp} = datagrams received so far) and a UDP sink on 9999.
 * Arguments: {@code name=address} pairs of the zone.
 */
public final class ExternalServices {
    static final int UDP_PORT = 9999;
    private static final List<String> datagrams = new CopyOnWriteArrayList<>();

    public static void main(String[] args) throws Exception {
        Map<String, String> zone = new HashMap<>();
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            zone.put(kv[0].toLowerCase() + ".", kv[1]);
        }
        DatagramSocket dnsUdp = new DatagramSocket(53);
        ServerSocket dnsTcp = new ServerSocket(53);
        DatagramSocket sink = new DatagramSocket(UDP_PORT);
        HttpServer http = HttpServer.create(new InetSocketAddress(80), 50);
        http.createContext("/hello", ex -> reply(ex, "hello from " + ex.getLocalAddress().getAddress().getHostAddress()));
        http.createContext("/bytes", ex -> {
            long n = Long.parseLong(ex.getRequestURI().getQuery().substring(2));
            ex.sendResponseHeaders(200, n);
            try (OutputStream out = ex.getResponseBody()) {
                byte[] chunk = new byte[65536];
                for (long left = n; left > 0; left -= chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, left));
                }
            }
        });
        http.createContext("/sink", ex -> reply(ex, Long.toString(ex.getRequestBody().transferTo(OutputStream.nullOutputStream()))));
        http.createContext("/udp", ex -> reply(ex, String.join("\n", datagrams)));
        http.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        http.start();
        Thread.ofVirtual().start(() -> serveUdp(dnsUdp, zone));
        Thread.ofVirtual().start(() -> serveTcp(dnsTcp, zone));
        Thread.ofVirtual().start(() -> sink(sink));
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void reply(HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sink(DatagramSocket socket) {
        byte[] buffer = new byte[2048];
        while (true) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                datagrams.add(packet.getAddress().getHostAddress() + " " + new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void serveUdp(DatagramSocket socket, Map<String, String> zone) {
        byte[] buffer = new byte[4096];
        while (true) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                byte[] reply = answer(java.util.Arrays.copyOf(packet.getData(), packet.getLength()), zone);
                socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
            } catch (IOException e) {
                System.err.println("dns: " + e);
            }
        }
    }

    private static void serveTcp(ServerSocket server, Map<String, String> zone) {
        while (true) {
            try (Socket socket = server.accept()) {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                byte[] query = in.readNBytes(in.readUnsignedShort());
                byte[] reply = answer(query, zone);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeShort(reply.length);
                out.write(reply);
            } catch (IOException e) {
                System.err.println("dns tcp: " + e);
            }
        }
    }

    private static byte[] answer(byte[] wire, Map<String, String> zone) throws IOException {
        Message query = new Message(wire);
        Record question = query.getQuestion();
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        reply.getHeader().setFlag(Flags.AA);
        reply.addRecord(question, Section.QUESTION);
        String address = zone.get(question.getName().toString().toLowerCase());
        if (address == null) {
            reply.getHeader().setRcode(Rcode.NXDOMAIN);
        } else if (question.getType() == Type.A) {
            reply.addRecord(new ARecord(question.getName(), DClass.IN, 300, InetAddress.getByName(address)), Section.ANSWER);
        }
        return reply.toWire();
    }
}
