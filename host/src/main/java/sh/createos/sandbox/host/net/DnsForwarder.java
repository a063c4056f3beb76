package sh.createos.sandbox.host.net;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The guests' resolver on the host (UDP and TCP, one port): answers the names of private network peers itself,
 * forwards everything else upstream, and lets the egress allowlist admit the addresses of allowed names before
 * the answer reaches the guest. Queries from addresses that are no sandbox's are refused.
 */
final class DnsForwarder implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(DnsForwarder.class);
    private static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration TCP_IDLE = Duration.ofSeconds(10);
    private static final long LOCAL_TTL = 5;
    private static final int UDP_DEFAULT_SIZE = 512;

    /** What the forwarder asks its owner. */
    interface Policy {
        /** The VM id of the sandbox that has {@code source}, if any. */
        Optional<String> client(InetAddress source);

        /** Present for names the host answers itself: the addresses (empty = the name does not exist). */
        Optional<List<InetAddress>> local(String vmId, String name);

        /** Called with an upstream answer before it is relayed to the sandbox. */
        void answered(String vmId, String name, List<ARecord> records) throws IOException;
    }

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final List<InetSocketAddress> upstream;
    private final Policy policy;
    private volatile boolean closed;

    private DnsForwarder(DatagramSocket udp, ServerSocket tcp, List<InetSocketAddress> upstream, Policy policy) {
        this.udp = udp;
        this.tcp = tcp;
        this.upstream = upstream;
        this.policy = policy;
    }

    /** Binds UDP and TCP on {@code port} of every address (0: a free port, the same for both). */
    static DnsForwarder start(int port, List<InetSocketAddress> upstream, Policy policy) throws IOException {
        for (int attempt = 0; ; attempt++) {
            DatagramSocket udp = new DatagramSocket(new InetSocketAddress(port));
            ServerSocket tcp = new ServerSocket();
            try {
                tcp.setReuseAddress(true);
                tcp.bind(new InetSocketAddress(udp.getLocalPort()));
            } catch (IOException e) {
                udp.close();
                tcp.close();
                if (port == 0 && attempt < 10) {
                    continue; // the free UDP port was taken on TCP: try another one
                }
                throw new IOException("DNS forwarder: cannot bind TCP port " + udp.getLocalPort() + ": " + e.getMessage(), e);
            }
            DnsForwarder forwarder = new DnsForwarder(udp, tcp, upstream, policy);
            Thread.ofVirtual().name("dns-udp").start(forwarder::serveUdp);
            Thread.ofVirtual().name("dns-tcp").start(forwarder::serveTcp);
            return forwarder;
        }
    }

    int port() {
        return udp.getLocalPort();
    }

    private void serveUdp() {
        byte[] buffer = new byte[65535];
        while (!closed) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                udp.receive(packet);
            } catch (IOException e) {
                if (!closed) {
                    log.warn("DNS forwarder: UDP receive failed: {}", e.toString());
                }
                continue;
            }
            byte[] query = Arrays.copyOfRange(packet.getData(), packet.getOffset(), packet.getOffset() + packet.getLength());
            InetAddress source = packet.getAddress();
            int sourcePort = packet.getPort();
            Thread.ofVirtual().name("dns-query").start(() -> {
                byte[] reply = answer(query, source, true);
                if (reply != null) {
                    try {
                        udp.send(new DatagramPacket(reply, reply.length, source, sourcePort));
                    } catch (IOException e) {
                        log.debug("DNS forwarder: reply to {} failed: {}", source, e.toString());
                    }
                }
            });
        }
    }

    private void serveTcp() {
        while (!closed) {
            Socket socket;
            try {
                socket = tcp.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("DNS forwarder: TCP accept failed: {}", e.toString());
                }
                continue;
            }
            Thread.ofVirtual().name("dns-tcp-conn").start(() -> serveConnection(socket));
        }
    }

    private void serveConnection(Socket socket) {
        try (socket) {
            socket.setSoTimeout((int) TCP_IDLE.toMillis());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            while (true) {
                int length = in.readUnsignedShort();
                byte[] query = in.readNBytes(length);
                if (query.length != length) {
                    return;
                }
                byte[] reply = answer(query, socket.getInetAddress(), false);
                if (reply == null) {
                    return;
                }
                out.writeShort(reply.length);
                out.write(reply);
                out.flush();
            }
        } catch (EOFException | SocketException e) {
            // the client is done
        } catch (IOException e) {
            log.debug("DNS forwarder: TCP connection from {}: {}", socket.getInetAddress(), e.toString());
        }
    }

    /** The wire reply to one query, or null to stay silent (malformed). */
    byte[] answer(byte[] wire, InetAddress source, boolean udpReply) {
        Message query;
        try {
            query = new Message(wire);
        } catch (IOException e) {
            return null;
        }
        Record question = query.getQuestion();
        if (question == null || query.getHeader().getFlag(Flags.QR)) {
            return null;
        }
        Optional<String> vmId = policy.client(source);
        Message reply;
        if (vmId.isEmpty()) {
            reply = response(query, Rcode.REFUSED);
        } else {
            reply = resolve(query, question, vmId.get());
        }
        int limit = UDP_DEFAULT_SIZE;
        OPTRecord opt = query.getOPT();
        if (opt != null) {
            limit = Math.max(UDP_DEFAULT_SIZE, opt.getPayloadSize());
        }
        return udpReply ? reply.toWire(limit) : reply.toWire();
    }

    private Message resolve(Message query, Record question, String vmId) {
        String name = question.getName().toString(true);
        Optional<List<InetAddress>> local = policy.local(vmId, name);
        if (local.isPresent()) {
            List<InetAddress> addresses = local.get();
            if (addresses.isEmpty()) {
                return response(query, Rcode.NXDOMAIN);
            }
            Message reply = response(query, Rcode.NOERROR);
            reply.getHeader().setFlag(Flags.AA);
            if (question.getType() == Type.A || question.getType() == Type.ANY) {
                for (InetAddress address : addresses) {
                    reply.addRecord(new ARecord(question.getName(), DClass.IN, LOCAL_TTL, address), Section.ANSWER);
                }
            }
            return reply;
        }
        Message upstreamReply = forward(query);
        if (upstreamReply == null) {
            return response(query, Rcode.SERVFAIL);
        }
        if (question.getType() == Type.A) {
            List<ARecord> records = new ArrayList<>();
            for (Record record : upstreamReply.getSection(Section.ANSWER)) {
                if (record instanceof ARecord a) {
                    records.add(a);
                }
            }
            try {
                policy.answered(vmId, name, records);
            } catch (IOException | RuntimeException e) {
                log.warn("DNS forwarder: admitting the addresses of {} for VM {} failed: {}", name, vmId, e.getMessage());
                return response(query, Rcode.SERVFAIL);
            }
        }
        upstreamReply.getHeader().setID(query.getHeader().getID());
        return upstreamReply;
    }

    /** Asks each upstream in turn: UDP from a fresh port, TCP when the answer was truncated. */
    private Message forward(Message query) {
        byte[] wire = query.toWire();
        for (InetSocketAddress server : upstream) {
            try {
                Message reply = overUdp(wire, server, query.getHeader().getID());
                return reply.getHeader().getFlag(Flags.TC) ? overTcp(wire, server) : reply;
            } catch (IOException e) {
                log.debug("DNS forwarder: upstream {} failed: {}", server, e.toString());
            }
        }
        log.warn("DNS forwarder: no upstream answered {}", query.getQuestion());
        return null;
    }

    private static Message overUdp(byte[] wire, InetSocketAddress server, int id) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.connect(server); // only the server's datagrams are received
            socket.setSoTimeout((int) UPSTREAM_TIMEOUT.toMillis());
            socket.send(new DatagramPacket(wire, wire.length));
            byte[] buffer = new byte[65535];
            while (true) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                Message reply = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
                if (reply.getHeader().getID() == id) {
                    return reply;
                }
            }
        }
    }

    private static Message overTcp(byte[] wire, InetSocketAddress server) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(server, (int) UPSTREAM_TIMEOUT.toMillis());
            socket.setSoTimeout((int) UPSTREAM_TIMEOUT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(wire.length);
            out.write(wire);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            return new Message(in.readNBytes(in.readUnsignedShort()));
        }
    }

    private static Message response(Message query, int rcode) {
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        if (query.getHeader().getFlag(Flags.RD)) {
            reply.getHeader().setFlag(Flags.RD);
        }
        reply.getHeader().setFlag(Flags.RA);
        reply.getHeader().setRcode(rcode);
        reply.addRecord(query.getQuestion(), Section.QUESTION);
        return reply;
    }

    @Override
    public void close() {
        closed = true;
        udp.close();
        try {
            tcp.close();
        } catch (IOException e) {
            log.debug("DNS forwarder: closing TCP: {}", e.toString());
        }
    }
}
