package sh.createos.sandbox.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback listener whose every accepted connection is piped, through its own {@code /tunnel/{port}} Upgrade,
 * to a port inside the guest; half-closes pass through both ways. {@link #close()} stops listening and drops the
 * open connections.
 */
public final class PortForward implements AutoCloseable {
    private final Transport transport;
    private final String tunnelPath;
    private final ServerSocket listener;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    PortForward(Transport transport, String tunnelPath) throws IOException {
        this.transport = transport;
        this.tunnelPath = tunnelPath;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "createos-port-forward-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The local port to connect to (on the loopback address). */
    public int localPort() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket local;
            try {
                local = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            open.add(local);
            daemon(() -> bridge(local), "createos-port-forward-conn");
        }
    }

    private void bridge(Socket local) {
        Socket remote = null;
        try {
            remote = Upgrade.open(transport, tunnelPath);
            open.add(remote);
            Socket r = remote;
            Thread up = daemon(() -> pump(local, r), "createos-port-forward-up");
            pump(r, local);
            up.join();
        } catch (IOException | RuntimeException e) {
            // the guest refused (nothing listens) or a side reset: drop the local connection
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(local);
            if (remote != null) {
                closeQuietly(remote);
            }
        }
    }

    /** Copies until EOF, then half-closes the destination so the other direction keeps flowing. */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[32 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void closeQuietly(Socket s) {
        open.remove(s);
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Stops listening and closes every forwarded connection. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
    }
}
