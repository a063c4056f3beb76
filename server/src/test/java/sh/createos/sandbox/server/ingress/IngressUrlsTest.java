package sh.createos.sandbox.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Template and Host-header parsing of ingress names. */
class IngressUrlsTest {
    private static final String ID = "sb_01K9ZQ3V5W6X7Y8Z9A0B1C2D3E";
    private static final String ULID = "01k9zq3v5w6x7y8z9a0b1c2d3e";

    @Test
    void theTemplateHoldsThePlaceholderOnceAndLeavesOutTheSchemesDefaultPort() {
        assertThat(new IngressUrls(false, "sb.localhost", 8081).template(ID))
                .isEqualTo("http://" + ULID + "-<port>.sb.localhost:8081");
        assertThat(new IngressUrls(true, "sb.example.com", 443).template(ID))
                .isEqualTo("https://" + ULID + "-<port>.sb.example.com");
        assertThat(new IngressUrls(false, "sb.example.com", 80).url(ID, 3000))
                .isEqualTo("http://" + ULID + "-3000.sb.example.com");
    }

    @Test
    void aHostHeaderNamesASandboxPortOnlyUnderTheDomain() {
        IngressUrls urls = new IngressUrls(false, "sb.localhost", 8081);
        IngressUrls.Target expected = new IngressUrls.Target(ID, 3000);
        assertThat(urls.target(ULID + "-3000.sb.localhost:8081")).contains(expected);
        assertThat(urls.target(ULID.toUpperCase() + "-3000.SB.LOCALHOST")).contains(expected);
        assertThat(urls.target(ULID + "-3000.sb.localhost.")).contains(expected);
        assertThat(urls.target(ULID + "-65535.sb.localhost")).contains(new IngressUrls.Target(ID, 65535));
        for (String other : new String[] {null, "", "sb.localhost", ULID + "-0.sb.localhost",
                ULID + "-65536.sb.localhost", ULID + "-3000.sb.localhost.evil.com", ULID + "-3000.other.localhost",
                "x" + ULID + "-3000.sb.localhost", ULID + "-3000.a.sb.localhost", ULID + ".sb.localhost",
                "127.0.0.1:8081", "[::1]:8081"}) {
            assertThat(urls.target(other)).as("%s", other).isEmpty();
        }
    }
}
