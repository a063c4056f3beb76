package sh.createos.sandbox.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sh.createos.sandbox.model.BandwidthView;
import sh.createos.sandbox.sdk.Sandbox;
import sh.createos.sandbox.sdk.SandboxClient;

/** {@code sb firewall|fw}: a sandbox's egress allowlist, its public ingress, and its bandwidth quota. */
@Command(name = "firewall", aliases = "fw", mixinStandardHelpOptions = true,
        description = {"A sandbox's network policy: the egress allowlist (hosts, CIDRs, * for all; no deny rules),",
                "public ingress (a URL per port), and the bandwidth quota."})
final class FirewallCommand {

    @Command(name = "get", aliases = {"show", "status"}, mixinStandardHelpOptions = true,
            description = "Show the egress allowlist, ingress and bandwidth together.")
    int get(@Parameters(arity = "0..1", paramLabel = "SANDBOX") String ref) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = Picker.sandbox(c, ref);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.id());
            m.put("egress", s.getEgress());
            m.put("ingress_enabled", s.data().ingressEnabled());
            if (s.data().ingressUrlTemplate() != null) {
                m.put("ingress_url_template", s.data().ingressUrlTemplate());
            }
            m.put("bandwidth", s.getBandwidth());
            if (Globals.structured()) {
                Output.structured(m);
            } else {
                Output.out().println("egress:   " + (s.getEgress().isEmpty() ? "(none: no outbound traffic)"
                        : String.join(", ", s.getEgress())));
                Output.out().println("ingress:  " + (s.data().ingressEnabled()
                        ? "on " + s.data().ingressUrlTemplate() : "off"));
                BandwidthView b = s.getBandwidth();
                Output.out().println("bandwidth: used " + b.usedBytes() + " of " + b.quotaBytes() + " bytes, "
                        + b.remainingBytes() + " left");
                Output.out().flush();
            }
            return 0;
        }
    }

    @Command(name = "egress", mixinStandardHelpOptions = true,
            description = {"Show or change the egress allowlist.",
                    "  sb fw egress SB                   show it",
                    "  sb fw egress SB --set R1,R2       replace it (--set '' blocks all egress)",
                    "  sb fw egress SB --allow R --deny R  add or drop single rules"})
    int egress(@Parameters(paramLabel = "SANDBOX") String ref,
               @Option(names = "--set", split = ",", arity = "0..*", paramLabel = "RULE",
                       description = "replace the allowlist with these rules") List<String> set,
               @Option(names = "--allow", paramLabel = "RULE", description = "add a rule (repeatable)") List<String> allow,
               @Option(names = {"--deny", "--remove"}, paramLabel = "RULE", description = "remove a rule (repeatable)") List<String> deny) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            if (set == null && allow == null && deny == null) {
                List<String> rules = s.getEgress();
                Output.rows(rules, List.of(new Output.Column<String>("RULE", r -> r, false)),
                        Map.of("id", s.id(), "egress", rules));
                return 0;
            }
            LinkedHashSet<String> rules = new LinkedHashSet<>(set != null ? set.stream().filter(r -> !r.isBlank()).toList()
                    : s.getEgress());
            if (allow != null) {
                rules.addAll(allow);
            }
            if (deny != null) {
                deny.forEach(rules::remove);
            }
            List<String> now = s.setEgress(new ArrayList<>(rules));
            Output.action("egress_updated", Map.of("id", s.id(), "egress", now),
                    "Egress of " + s.id() + ": " + (now.isEmpty() ? "(none)" : String.join(", ", now)));
            return 0;
        }
    }

    @Command(name = "ingress", mixinStandardHelpOptions = true,
            description = "Turn the public ingress on or off: sb fw ingress SANDBOX on|off")
    int ingress(@Parameters(index = "0", paramLabel = "SANDBOX") String ref,
                @Parameters(index = "1", arity = "0..1", paramLabel = "on|off") String onOff) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            if (onOff == null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", s.id());
                m.put("ingress_enabled", s.data().ingressEnabled());
                if (s.data().ingressUrlTemplate() != null) {
                    m.put("ingress_url_template", s.data().ingressUrlTemplate());
                }
                if (Globals.structured()) {
                    Output.structured(m);
                } else {
                    Output.out().println(s.data().ingressEnabled()
                            ? "on " + s.data().ingressUrlTemplate() : "off");
                }
                return 0;
            }
            boolean on = switch (onOff) {
                case "on", "enable", "true" -> true;
                case "off", "disable", "false" -> false;
                default -> throw new CliException(ExitCodes.USAGE, "on or off, not '" + onOff + "'");
            };
            s = s.setIngress(on);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.id());
            m.put("ingress_enabled", on);
            if (s.data().ingressUrlTemplate() != null) {
                m.put("ingress_url_template", s.data().ingressUrlTemplate());
            }
            Output.action("ingress_updated", m, "Ingress of " + s.id() + " " + (on ? "on" : "off"));
            return 0;
        }
    }

    @Command(name = "bandwidth", aliases = "bw", mixinStandardHelpOptions = true,
            description = "Show the bandwidth quota and use, or add to it with --recharge BYTES.")
    int bandwidth(@Parameters(paramLabel = "SANDBOX") String ref,
                  @Option(names = "--recharge", paramLabel = "BYTES", description = "add this many bytes to the quota") Long add) {
        try (SandboxClient c = CreateosCli.client()) {
            Sandbox s = SandboxCommand.resolve(c, ref);
            if (add == null) {
                BandwidthView b = s.getBandwidth();
                Output.rows(List.of(b), List.of(new Output.Column<BandwidthView>("QUOTA", BandwidthView::quotaBytes, false),
                        new Output.Column<BandwidthView>("USED", BandwidthView::usedBytes, false),
                        new Output.Column<BandwidthView>("REMAINING", BandwidthView::remainingBytes, false),
                        new Output.Column<BandwidthView>("INGRESS", BandwidthView::ingressBytes, true)), b);
                return 0;
            }
            if (add <= 0) {
                throw new CliException(ExitCodes.USAGE, "--recharge wants a positive number of bytes");
            }
            BandwidthView b = s.rechargeBandwidth(add);
            Output.action("recharged", Map.of("id", s.id(), "bandwidth", b),
                    "Recharged " + s.id() + ": " + b.remainingBytes() + " bytes left");
            return 0;
        }
    }
}
