package sh.createos.sandbox.server.ingress;

import java.nio.file.Path;
import sh.createos.sandbox.server.ListenAddress;

/**
 * The public ingress listener: where it binds, the domain under which {@code <ulid>-<port>.<domain>} names the
 * sandboxes' ports, and optionally TLS (then the URLs are https). {@link #DISABLED} runs no listener and promises
 * no URL.
 */
public record IngressConfig(ListenAddress listen, String domain, IngressTls tls) {
    public static final String DEFAULT_LISTEN = "127.0.0.1:8081";
    /** Browsers and curl resolve every {@code *.localhost} name to loopback, so this works with no DNS setup. */
    public static final String DEFAULT_DOMAIN = "sb.localhost";
    public static final IngressConfig DISABLED = new IngressConfig(null, null, null);

    public IngressConfig {
        if (listen != null) {
            domain = domain == null || domain.isBlank() ? DEFAULT_DOMAIN : domain.toLowerCase(java.util.Locale.ROOT);
            if (!domain.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
                throw new IllegalArgumentException("--ingress-domain wants a DNS name, not '" + domain + "'");
            }
        }
    }

    /** {@code listen} is {@code HOST:PORT} or {@code off}. */
    public static IngressConfig of(String listen, String domain, IngressTls tls) {
        if (listen == null || listen.equalsIgnoreCase("off")) {
            return DISABLED;
        }
        return new IngressConfig(ListenAddress.parse(listen, "--ingress-listen"), domain, tls);
    }

    public boolean enabled() {
        return listen != null;
    }

    /**
     * TLS for the listener: a PKCS#12/JKS key store ({@code keyStore} + {@code password}) or a PEM certificate chain
     * with its PKCS#8 private key ({@code certificate} + {@code privateKey}).
     */
    public record IngressTls(Path keyStore, String password, Path certificate, Path privateKey) {
        public IngressTls {
            boolean store = keyStore != null;
            boolean pem = certificate != null || privateKey != null;
            if (store == pem) {
                throw new IllegalArgumentException("ingress TLS wants either --ingress-tls-keystore or "
                        + "--ingress-tls-cert with --ingress-tls-key");
            }
            if (pem && (certificate == null || privateKey == null)) {
                throw new IllegalArgumentException("--ingress-tls-cert and --ingress-tls-key go together");
            }
        }
    }
}
