package sh.createos.sandbox.host.net;

import java.util.ArrayList;
import java.util.List;

/**
 * A sandbox's egress allowlist (spec §9.1-9.2): open (everything outside is reachable) or a list of rules, each an
 * IPv4 address, a CIDR, {@code host}, {@code *.host}, optionally with {@code :port}. Enforced for TCP and UDP.
 */
public final class EgressPolicy {
    public static final EgressPolicy OPEN = new EgressPolicy(List.of(), List.of());

    private final List<String> rules;
    private final List<EgressRule> parsed;

    private EgressPolicy(List<String> rules, List<EgressRule> parsed) {
        this.rules = rules;
        this.parsed = parsed;
    }

    /**
     * {@code null}, {@code []} and any list holding {@code "*"} are open.
     *
     * @throws IllegalArgumentException naming the first malformed rule (the API answers 400)
     */
    public static EgressPolicy of(List<String> rules) {
        if (rules == null || rules.isEmpty() || rules.stream().anyMatch(r -> r != null && r.strip().equals("*"))) {
            return OPEN;
        }
        List<String> kept = new ArrayList<>();
        List<EgressRule> parsed = new ArrayList<>();
        for (String rule : rules) {
            parsed.add(EgressRule.parse(rule));
            kept.add(rule.strip());
        }
        return new EgressPolicy(List.copyOf(kept), List.copyOf(parsed));
    }

    public boolean isOpen() {
        return parsed.isEmpty();
    }

    /** The rules as given (trimmed); empty when open. */
    public List<String> rules() {
        return rules;
    }

    List<EgressRule> parsed() {
        return parsed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EgressPolicy other && rules.equals(other.rules);
    }

    @Override
    public int hashCode() {
        return rules.hashCode();
    }

    @Override
    public String toString() {
        return isOpen() ? "open" : rules.toString();
    }
}
