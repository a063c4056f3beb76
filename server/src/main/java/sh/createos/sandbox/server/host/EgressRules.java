package sh.createos.sandbox.server.host;

import java.util.List;
import sh.createos.sandbox.host.net.EgressPolicy;

/** The egress allowlist grammar the host enforces (IPv4, CIDR, host, *.host, each with an optional :port). */
public final class EgressRules {
    private EgressRules() {}

    /**
     * The rules to keep for a requested list: [] when open ({@code null}, {@code []}, any list holding "*").
     *
     * @throws IllegalArgumentException naming the first malformed rule
     */
    public static List<String> check(List<String> rules) {
        return EgressPolicy.of(rules).rules();
    }
}
