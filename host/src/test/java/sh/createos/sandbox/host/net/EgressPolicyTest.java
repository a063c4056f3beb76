package sh.createos.sandbox.host.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {
    @Test
    void nullEmptyAndStarAreOpen() {
        assertThat(EgressPolicy.of(null).isOpen()).isTrue();
        assertThat(EgressPolicy.of(List.of()).isOpen()).isTrue();
        assertThat(EgressPolicy.of(List.of("api.example.com", "*")).isOpen()).isTrue();
        assertThat(EgressPolicy.of(List.of("*")).rules()).isEmpty();
    }

    @Test
    void everyRuleFormParses() {
        EgressPolicy policy = EgressPolicy.of(List.of("1.2.3.4", "10.0.0.0/8", "1.2.3.4:443", "10.1.0.0/16:53",
                "API.Example.com", "registry.npmjs.org:443", "*.example.org", "*.cdn.example.net:8443"));
        assertThat(policy.isOpen()).isFalse();
        assertThat(policy.parsed()).containsExactly(
                new EgressRule.Address(Ipv4Cidr.parse("1.2.3.4/32"), null),
                new EgressRule.Address(Ipv4Cidr.parse("10.0.0.0/8"), null),
                new EgressRule.Address(Ipv4Cidr.parse("1.2.3.4"), 443),
                new EgressRule.Address(Ipv4Cidr.parse("10.1.0.0/16"), 53),
                new EgressRule.Name("api.example.com", false, null),
                new EgressRule.Name("registry.npmjs.org", false, 443),
                new EgressRule.Name("example.org", true, null),
                new EgressRule.Name("cdn.example.net", true, 8443));
        assertThat(policy.rules()).startsWith("1.2.3.4", "10.0.0.0/8");
    }

    @Test
    void namesMatchExactlyOrAsSubdomains() {
        EgressRule.Name exact = new EgressRule.Name("example.com", false, null);
        EgressRule.Name wildcard = new EgressRule.Name("example.com", true, null);
        assertThat(exact.matches("Example.COM.")).isTrue();
        assertThat(exact.matches("www.example.com")).isFalse();
        assertThat(wildcard.matches("www.example.com")).isTrue();
        assertThat(wildcard.matches("a.b.example.com.")).isTrue();
        assertThat(wildcard.matches("example.com")).isFalse();
        assertThat(wildcard.matches("badexample.com")).isFalse();
    }

    @Test
    void malformedRulesAreRejectedByName() {
        for (String bad : Arrays.asList("", "1.2.3.4:0", "1.2.3.4:70000", "host:http", "300.1.1.1", "10.0.0.0/33",
                "bad host", "-x.example.com", "::1", "[fd00::1]:80", "a..b", null)) {
            assertThatThrownBy(() -> EgressPolicy.of(Arrays.asList("ok.example.com", bad)))
                    .as("rule %s", bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("egress rule");
        }
    }

    @Test
    void cidrArithmetic() {
        Ipv4Cidr pool = Ipv4Cidr.parse("10.200.0.0/16");
        assertThat(Ipv4Cidr.format(pool.address(4 * 3 + 1))).isEqualTo("10.200.0.13");
        assertThat(pool.contains(Ipv4Cidr.parseAddress("10.200.255.255"))).isTrue();
        assertThat(pool.contains(Ipv4Cidr.parseAddress("10.201.0.0"))).isFalse();
        assertThat(pool.overlaps(Ipv4Cidr.parse("10.0.0.0/8"))).isTrue();
        assertThat(pool.overlaps(Ipv4Cidr.parse("10.201.0.0/16"))).isFalse();
        assertThat(Ipv4Cidr.parse("10.1.2.3/8")).hasToString("10.0.0.0/8");
    }
}
