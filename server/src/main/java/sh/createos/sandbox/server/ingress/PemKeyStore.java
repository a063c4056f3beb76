package sh.createos.sandbox.server.ingress;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A PEM certificate chain and its unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}) as a key store. */
final class PemKeyStore {
    static final String PASSWORD = "ingress";
    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private PemKeyStore() {}

    static KeyStore load(Path certificate, Path privateKey) throws IOException, GeneralSecurityException {
        Certificate[] chain;
        try (InputStream in = Files.newInputStream(certificate)) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
        }
        if (chain.length == 0) {
            throw new IOException("no certificate in " + certificate);
        }
        Matcher pem = PKCS8.matcher(Files.readString(privateKey));
        if (!pem.find()) {
            throw new IOException(privateKey + " holds no unencrypted PKCS#8 key ('BEGIN PRIVATE KEY'); convert it "
                    + "with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(pem.group(1)));
        String algorithm = chain[0].getPublicKey().getAlgorithm();
        PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(spec);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("ingress", key, PASSWORD.toCharArray(), chain);
        return store;
    }
}
