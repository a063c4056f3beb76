package sh.createos.sandbox.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.model.SandboxStatus;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.Ulid;
import sh.createos.sandbox.server.store.SandboxRecord;

/**
 * The ingress with TLS from a PEM certificate + PKCS#8 key and from a PKCS#12 key store (made by openssl for
 * {@code *.sb.example.test}), without a VM: the handshake works with the certificate trusted, the answer is the
 * ingress's own page, and the template turns https with the public domain.
 */
class IngressTlsTest {
    @TempDir
    Path dir;

    @Test
    void aPemCertificateAndKeyServeHttps() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        selfSigned(cert, key);
        check(new IngressConfig.IngressTls(null, null, cert, key), cert);
    }

    @Test
    void aKeyStoreServesHttps() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Path store = dir.resolve("ingress.p12");
        selfSigned(cert, key);
        Command.of("openssl", "pkcs12", "-export", "-in", cert.toString(), "-inkey", key.toString(), "-out",
                store.toString(), "-passout", "pass:changeit").run();
        check(new IngressConfig.IngressTls(store, "changeit", null, null), cert);
    }

    private void check(IngressConfig.IngressTls tls, Path cert) throws Exception {
        try (TestApi api = TestApi.start(dir.resolve("data"), false, c -> c.withIngress(
                IngressConfig.of("127.0.0.1:0", "sb.example.test", tls)))) {
            SandboxRecord row = new SandboxRecord("sb_" + Ulid.next(), api.alice.id(), "tls-one",
                    SandboxStatus.RUNNING, "s-1vcpu-256mb", "devbox:1", 1, 256, 10240, null, "local", true, null,
                    Map.of(), List.of(), List.of(), 10737418240L, null, Instant.now(), null, null, null, "a@b");
            api.server.store().insertSandbox(row);
            String template = api.get("/v1/sandboxes/" + row.id(), api.aliceKey).data()
                    .get("ingress_url_template").asText();
            assertThat(template).isEqualTo("https://" + row.id().substring(3).toLowerCase(java.util.Locale.ROOT)
                    + "-<port>.sb.example.test:" + api.server.ingressPort());

            HttpClient https = HttpClient.newBuilder().sslContext(trusting(cert)).build();
            HttpResponse<String> page = https.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                    + api.server.ingressPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(404);
            assertThat(page.body()).contains("No sandbox here");
            assertThat(page.sslSession()).isPresent();
        }
    }

    private static void selfSigned(Path cert, Path key) throws Exception {
        Command.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "2", "-subj", "/CN=*.sb.example.test", "-addext",
                "subjectAltName=DNS:*.sb.example.test,DNS:localhost", "-keyout", key.toString(), "-out",
                cert.toString()).run();
    }

    private static SSLContext trusting(Path cert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            trust.setCertificateEntry("ingress", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
