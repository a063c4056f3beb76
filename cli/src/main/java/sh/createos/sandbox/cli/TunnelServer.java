package sh.createos.sandbox.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import sh.createos.sandbox.sdk.PortForward;
import sh.createos.sandbox.sdk.Sandbox;

/**
 * {@code sb tunnel}: listeners on the requested port of 127.0.0.1 and ::1 (or {@code --bind}), each connection
 * relayed to the SDK's {@link PortForward}, which opens one {@code /tunnel/{port}} Upgrade per connection. The SDK's
 * forwarder only binds an ephemeral IPv4 loopback port, hence this thin adapter in front of it.
 */
final class TunnelServer {
    private final Sandbox sandbox;
    private final int remotePort;
    private final int localPort;
    private final String bind;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    TunnelServer(Sandbox sandbox, int remotePort, int localPort, String bind) {
        this.sandbox = sandbox;
        this.remotePort = remotePort;
        this.localPort = localPort;
        this.bind = bind;
    }

    int run() throws Exception {
        if (remotePort < 1 || remotePort > 65535 || localPort < 0 || localPort > 65535) {
            throw new CliException(ExitCodes.USAGE, "ports are 1..65535 (local 0 picks one)");
        }
        CountDownLatch stop = new CountDownLatch(1);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> stop.countDown());
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> stop.countDown());
        try (PortForward forward = sandbox.forwardPort(remotePort)) {
            List<ServerSocket> listeners = new ArrayList<>();
            try {
                List<String> hosts = bind != null ? List.of(bind) : List.of("127.0.0.1", "::1");
                List<String> where = new ArrayList<>();
                int port = localPort;
                for (String host : hosts) {
                    InetAddress a = InetAddress.getByName(host);
                    ServerSocket ss = new ServerSocket();
                    ss.setReuseAddress(true);
                    try {
                        ss.bind(new InetSocketAddress(a, port));
                    } catch (IOException e) {
                        ss.close();
                        if (bind == null && a.getAddress().length == 16) {
                            continue; // no IPv6 loopback on this machine: IPv4 alone
                        }
                        throw new CliException(ExitCodes.CONFLICT, "cannot listen on " + a.getHostAddress() + ":"
                                + port + ": " + e.getMessage());
                    }
                    port = ss.getLocalPort();
                    listeners.add(ss);
                    where.add((host.contains(":") ? "[" + host + "]" : host) + ":" + port);
                    Thread t = new Thread(() -> accept(ss, forward.localPort()), "tunnel-accept");
                    t.setDaemon(true);
                    t.start();
                }
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("id", sandbox.id());
                f.put("remote_port", remotePort);
                f.put("local_port", port);
                f.put("listen", where);
                Output.action("tunnel_open", f, "Forwarding " + String.join(" and ", where) + " -> " + sandbox.id()
                        + ":" + remotePort + " (Ctrl-C to stop)");
                stop.await();
            } finally {
                closing = true;
                for (ServerSocket ss : listeners) {
                    ss.close();
                }
                for (Socket s : open) {
                    s.close();
                }
            }
        }
        if (!Globals.structured()) {
            System.err.println("Tunnel closed.");
        } else {
            Output.action("tunnel_closed", Map.of("id", sandbox.id(), "remote_port", remotePort), "");
        }
        return 0;
    }

    private void accept(ServerSocket ss, int forwardPort) {
        while (!closing) {
            Socket local;
            try {
                local = ss.accept();
            } catch (IOException e) {
                return;
            }
            open.add(local);
            Thread t = new Thread(() -> relay(local, forwardPort), "tunnel-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void relay(Socket local, int forwardPort) {
        try (local; Socket remote = new Socket(InetAddress.getLoopbackAddress(), forwardPort)) {
            open.add(remote);
            Thread up = new Thread(() -> pump(local, remote), "tunnel-up");
            up.setDaemon(true);
            up.start();
            pump(remote, local);
            up.join();
        } catch (IOException | InterruptedException e) {
            // the connection ended; others go on
        } finally {
            open.remove(local);
        }
    }

    /** Copies one direction, then half-closes, so a request/EOF protocol still sees its EOF. */
    private static void pump(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            in.transferTo(out);
            out.flush();
            to.shutdownOutput();
        } catch (IOException ignored) {
            // closed under us
        }
    }
}
