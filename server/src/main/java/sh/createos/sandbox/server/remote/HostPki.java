package sh.createos.sandbox.server.remote;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import sh.createos.sandbox.host.proc.Command;

/**
 * The private certificate authority of the control plane and its host daemons (mutual TLS on the host RPC), made
 * with Debian's {@code openssl}: one CA per installation ({@code ca.pem}, {@code ca.key}, kept on the control
 * plane's machine), the control plane's client certificate ({@code control-plane.pem}/{@code .key}, name
 * {@value #CONTROL_PLANE}) and one certificate per host daemon whose DNS name is its host id (the control plane
 * checks the daemon's certificate against the id it expects, whatever address it dials). EC P-256 keys, PKCS#8 PEM,
 * files 0600. An operator may put certificates of their own CA into the same file names instead.
 */
public final class HostPki {
    /** The name (CN and DNS SAN) of the control plane's client certificate; daemons accept only it. */
    public static final String CONTROL_PLANE = "createos-control-plane";
    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca.key";
    /** A host daemon's files in its TLS directory. */
    public static final String HOST_CERT = "host.pem";
    public static final String HOST_KEY = "host.key";
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.:-]{1,253}");
    private static final Duration OPENSSL = Duration.ofSeconds(30);

    private final Path dir;

    private HostPki(Path dir) {
        this.dir = dir;
    }

    /** The CA in {@code dir}, created (with the control plane's certificate) when it is not there yet. */
    public static HostPki open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        HostPki pki = new HostPki(dir);
        if (!Files.exists(dir.resolve(CA_CERT))) {
            pki.createCa();
        }
        if (!Files.exists(dir.resolve(CONTROL_PLANE + ".pem"))) {
            pki.issue(CONTROL_PLANE, List.of(), dir.resolve(CONTROL_PLANE + ".pem"), dir.resolve(CONTROL_PLANE + ".key"));
        }
        return pki;
    }

    /** Whether {@code dir} holds a CA that can sign (the control plane's machine). */
    public static boolean canSign(Path dir) {
        return Files.isRegularFile(dir.resolve(CA_CERT)) && Files.isRegularFile(dir.resolve(CA_KEY));
    }

    public Path dir() {
        return dir;
    }

    /** The control plane's side of the mutual TLS: its client certificate and the CA its daemons' certificates are from. */
    public HostTls controlPlane() {
        return new HostTls(dir.resolve(CA_CERT), dir.resolve(CONTROL_PLANE + ".pem"), dir.resolve(CONTROL_PLANE + ".key"));
    }

    /**
     * A host daemon's bundle in {@code out} ({@code ca.pem}, {@code host.pem}, {@code host.key}): a certificate for
     * {@code hostId} (its DNS name, the name the control plane verifies), also valid for {@code addresses} (IPs or
     * DNS names it is dialled at).
     */
    public HostTls issueHost(String hostId, List<String> addresses, Path out) throws IOException {
        if (!NAME.matcher(hostId).matches() || hostId.equals(CONTROL_PLANE)) {
            throw new IllegalArgumentException("a host id is a DNS label (a-z, 0-9, '-'), not '" + hostId + "'");
        }
        for (String address : addresses) {
            if (!ADDRESS.matcher(address).matches()) {
                throw new IllegalArgumentException("not an IP address or DNS name: '" + address + "'");
            }
        }
        Files.createDirectories(out);
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwx------"));
        issue(hostId, addresses, out.resolve(HOST_CERT), out.resolve(HOST_KEY));
        if (!out.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
            Files.copy(dir.resolve(CA_CERT), out.resolve(CA_CERT), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return HostTls.hostIn(out);
    }

    private void createCa() throws IOException {
        Path key = dir.resolve(CA_KEY);
        Path tmp = dir.resolve(CA_CERT + ".tmp");
        Command.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key.toString(), "-out", tmp.toString(), "-days", "3650", "-sha256",
                "-subj", "/CN=createos-sandbox host CA " + serial().substring(0, 8),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign").timeout(OPENSSL).run();
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, dir.resolve(CA_CERT), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A leaf certificate for {@code name} (CN and DNS SAN, plus {@code addresses}), for client and server use. */
    private void issue(String name, List<String> addresses, Path cert, Path key) throws IOException {
        if (!canSign(dir)) {
            throw new IOException("no CA key in " + dir + ": certificates are issued on the control plane's machine");
        }
        List<String> sans = new ArrayList<>();
        sans.add("DNS:" + name);
        for (String address : addresses) {
            sans.add((address.matches("[0-9.]+") || address.contains(":") ? "IP:" : "DNS:") + address);
        }
        Path csr = Files.createTempFile(dir, name, ".csr");
        Path tmpKey = key.resolveSibling(key.getFileName() + ".tmp");
        Path tmpCert = cert.resolveSibling(cert.getFileName() + ".tmp");
        try {
            Command.of("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", tmpKey.toString(), "-out", csr.toString(), "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + String.join(",", sans),
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "keyUsage=critical,digitalSignature",
                    "-addext", "extendedKeyUsage=serverAuth,clientAuth").timeout(OPENSSL).run();
            Files.setPosixFilePermissions(tmpKey, PosixFilePermissions.fromString("rw-------"));
            Command.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", dir.resolve(CA_CERT).toString(),
                    "-CAkey", dir.resolve(CA_KEY).toString(), "-set_serial", "0x" + serial(), "-days", "825",
                    "-sha256", "-copy_extensions", "copyall", "-out", tmpCert.toString()).timeout(OPENSSL).run();
            Files.move(tmpKey, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmpCert, cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(csr);
            Files.deleteIfExists(tmpKey);
            Files.deleteIfExists(tmpCert);
        }
    }

    private static String serial() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        bytes[0] &= 0x7f; // positive
        return HexFormat.of().formatHex(bytes);
    }
}
