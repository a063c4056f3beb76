package sh.createos.sandbox.server.remote;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One side's files of the host RPC's mutual TLS: the CA the peer's certificate must come from, and this side's own
 * certificate and PKCS#8 key (PEM). A daemon requires a client certificate; the control plane verifies the daemon's.
 */
public record HostTls(Path ca, Path cert, Path key) {
    public HostTls {
        for (Path file : new Path[] {ca, cert, key}) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("host TLS: no file " + file);
            }
        }
    }

    /** A host daemon's files in its TLS directory ({@code ca.pem}, {@code host.pem}, {@code host.key}). */
    public static HostTls hostIn(Path dir) {
        return new HostTls(dir.resolve(HostPki.CA_CERT), dir.resolve(HostPki.HOST_CERT), dir.resolve(HostPki.HOST_KEY));
    }

    /** The daemon's: its certificate, and only clients with a certificate from the CA get through the handshake. */
    ServerCredentials server() throws IOException {
        return TlsServerCredentials.newBuilder()
                .keyManager(cert.toFile(), key.toFile())
                .trustManager(ca.toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                .build();
    }

    /** The control plane's: its client certificate, and only daemons with a certificate from the CA are trusted. */
    ChannelCredentials client() throws IOException {
        return TlsChannelCredentials.newBuilder()
                .keyManager(cert.toFile(), key.toFile())
                .trustManager(ca.toFile())
                .build();
    }
}
