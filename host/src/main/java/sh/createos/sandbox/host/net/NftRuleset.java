package sh.createos.sandbox.host.net;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The nft scripts of one {@link HostNetwork}: the whole table (at start), and the transactions that add, change and
 * remove one sandbox's part. Each sandbox (slot n) has chains out_n/pass_n (what it sends) and in_n/inpass_n (what
 * it receives), sets src_n (its addresses), peers_n (its private network peers), allow_n/allowport_n (address
 * rules), dns_n/dnsport_n (addresses admitted by the DNS forwarder, with timeouts), counters cout_n/cin_n and,
 * when metered, quota q_n, and diskep_n (the address:port of the S3 endpoints of its mounted disks, reachable
 * whatever its allowlist says). Pass chains end without a verdict, so the receiving tap's chain still runs.
 */
final class NftRuleset {
    private final String table;
    private final String tapPrefix;
    private final int dnsPort;

    NftRuleset(String table, String tapPrefix, int dnsPort) {
        this.table = table;
        this.tapPrefix = tapPrefix;
        this.dnsPort = dnsPort;
    }

    /**
     * What a sandbox's rules are made of: {@code usedBytes}/{@code ingressBytes} start its counters, {@code quotaUsed}
     * its quota (which also counts what it dropped, so a capped sandbox stays capped across a rebuild).
     */
    record Sandbox(int slot, String tap, Collection<String> addresses, Collection<String> peers, EgressPolicy egress,
                   long quotaBytes, long usedBytes, long ingressBytes, long quotaUsed) {}

    /** Replaces the whole table (an existing one is deleted in the same transaction). */
    String table(Collection<Ipv4Cidr> closed, Collection<Ipv4Cidr> privateRanges, Collection<Ipv4Cidr> opened,
            Ipv4Cidr sandboxPool, Ipv4Cidr networkPool, List<Sandbox> sandboxes) {
        String taps = "\"" + tapPrefix + "*\"";
        StringBuilder s = new StringBuilder();
        s.append("table inet ").append(table).append(" {}\n");
        s.append("delete table inet ").append(table).append('\n');
        s.append("table inet ").append(table).append(" {\n");
        s.append("  set closed {\n    type ipv4_addr; flags interval; auto-merge;\n    elements = { ")
                .append(closed.stream().map(Ipv4Cidr::toString).collect(Collectors.joining(", "))).append(" }\n  }\n");
        // The instance's claim on its address pools, read by any other instance that starts (Nft.claimedPools).
        s.append("  set ").append(Nft.POOLS_SET).append(" {\n    type ipv4_addr; flags interval;\n    elements = { ")
                .append(sandboxPool).append(", ").append(networkPool).append(" }\n  }\n");
        s.append(intervalSet("private", privateRanges));
        s.append(intervalSet("opened", opened));
        s.append("  set netpool {\n    type ipv4_addr; flags interval;\n    elements = { ").append(networkPool)
                .append(" }\n  }\n");
        s.append("  set taps {\n    type ifname;\n  }\n");
        s.append("  set overlays {\n    type ifname;\n  }\n");
        s.append("  map from_overlay {\n    type ifname : verdict;\n  }\n");
        s.append("  map to_overlay {\n    type ifname : verdict;\n  }\n");
        s.append("  map from_tap {\n    type ifname : verdict;\n  }\n");
        s.append("  map to_tap {\n    type ifname : verdict;\n  }\n");
        s.append("  map to_host {\n    type ifname : verdict;\n  }\n");
        // DNS to any host address goes to the forwarder, the guests' only resolver on the host.
        s.append("  chain dns_redirect {\n    type nat hook prerouting priority dstnat; policy accept;\n")
                .append("    iifname ").append(taps).append(" fib daddr type local meta l4proto { tcp, udp } th dport 53")
                .append(" redirect to :").append(dnsPort).append("\n  }\n");
        // The host itself: only the forwarder, and replies to what the host opened (ingress, tunnels).
        s.append("  chain guard_host {\n    type filter hook input priority filter; policy accept;\n")
                .append("    iifname ").append(taps).append(" jump from_guest\n")
                // The overlay carries member-to-member traffic only: nothing on it is for the host itself.
                .append("    iifname @overlays drop\n  }\n");
        s.append("  chain from_guest {\n")
                .append("    meta nfproto ipv6 drop\n")
                // A guest speaks to the host (its DNS forwarder) only from its own address: a query spoofing
                // another sandbox's must not be answered, nor admit addresses, for that sandbox.
                .append("    iifname != @taps drop\n")
                .append("    iifname vmap @to_host\n")
                .append("    ct state established,related accept\n")
                .append("    ct status dnat meta l4proto { tcp, udp } th dport ").append(dnsPort).append(" accept\n")
                .append("    meta l4proto tcp reject with tcp reset\n")
                .append("    reject with icmpx type admin-prohibited\n  }\n");
        s.append("  chain deny {\n    meta l4proto tcp reject with tcp reset\n")
                .append("    reject with icmpx type admin-prohibited\n  }\n");
        s.append("  chain route_guests {\n    type filter hook forward priority filter; policy accept;\n")
                // A guest's MTU is 1500, the overlay's less: its TCP segments are sized for the overlay.
                .append("    oifname @overlays tcp flags syn tcp option maxseg size set rt mtu\n")
                .append("    iifname @overlays meta nfproto ipv6 drop\n")
                .append("    oifname @overlays meta nfproto ipv6 drop\n")
                .append("    iifname vmap @from_overlay\n")
                .append("    oifname vmap @to_overlay\n")
                .append("    iifname ").append(taps).append(" meta nfproto ipv6 drop\n")
                .append("    oifname ").append(taps).append(" meta nfproto ipv6 drop\n")
                .append("    iifname ").append(taps).append(" iifname != @taps drop\n")
                .append("    oifname ").append(taps).append(" oifname != @taps drop\n")
                .append("    iifname vmap @from_tap\n")
                .append("    oifname vmap @to_tap\n  }\n");
        s.append("  chain masquerade_guests {\n    type nat hook postrouting priority srcnat; policy accept;\n")
                .append("    iifname ").append(taps).append(" oifname != ").append(taps)
                .append(" oifname != @overlays masquerade\n  }\n");
        s.append("}\n");
        for (Sandbox sandbox : sandboxes) {
            s.append(add(sandbox));
        }
        return s.toString();
    }

    private static String intervalSet(String name, Collection<Ipv4Cidr> ranges) {
        String elements = ranges.isEmpty() ? ""
                : "\n    elements = { " + ranges.stream().map(Ipv4Cidr::toString).collect(Collectors.joining(", ")) + " }";
        return "  set " + name + " {\n    type ipv4_addr; flags interval; auto-merge;" + elements + "\n  }\n";
    }

    /** Adds a sandbox's objects, chains and map entries. */
    String add(Sandbox sb) {
        int n = sb.slot();
        StringBuilder s = new StringBuilder();
        s.append(String.format("add set inet %s src_%d { type ipv4_addr; }%n", table, n));
        s.append(String.format("add set inet %s peers_%d { type ipv4_addr; }%n", table, n));
        s.append(String.format("add set inet %s allow_%d { type ipv4_addr; flags interval; auto-merge; }%n", table, n));
        s.append(String.format("add set inet %s allowport_%d { type ipv4_addr . inet_service; flags interval; }%n", table, n));
        s.append(String.format("add set inet %s dns_%d { type ipv4_addr; flags timeout; }%n", table, n));
        s.append(String.format("add set inet %s dnsport_%d { type ipv4_addr . inet_service; flags timeout; }%n", table, n));
        s.append(String.format("add set inet %s diskep_%d { type ipv4_addr . inet_service; }%n", table, n));
        s.append(String.format("add counter inet %s cout_%d { packets 0 bytes %d }%n", table, n, sb.usedBytes()));
        s.append(String.format("add counter inet %s cin_%d { packets 0 bytes %d }%n", table, n, sb.ingressBytes()));
        for (String chain : List.of("out_", "pass_", "in_", "inpass_", "host_")) {
            s.append(String.format("add chain inet %s %s%d%n", table, chain, n));
        }
        s.append(String.format("add rule inet %s host_%d ip saddr != @src_%d drop%n", table, n, n));
        s.append(elements("src_" + n, sb.addresses()));
        s.append(elements("peers_" + n, sb.peers()));
        s.append(passRules(sb));
        s.append(egressRules(n, sb.egress()));
        s.append(String.format("add rule inet %s in_%d ip saddr @netpool ip saddr != @peers_%d drop%n", table, n, n));
        s.append(String.format("add rule inet %s in_%d ct state established,related goto inpass_%d%n", table, n, n));
        s.append(String.format("add rule inet %s in_%d ip saddr @peers_%d goto inpass_%d%n", table, n, n, n));
        s.append(String.format("add rule inet %s in_%d drop%n", table, n));
        s.append(String.format("add rule inet %s inpass_%d counter name \"cin_%d\"%n", table, n, n));
        s.append(String.format("add element inet %s taps { \"%s\" }%n", table, sb.tap()));
        s.append(String.format("add element inet %s from_tap { \"%s\" : jump out_%d }%n", table, sb.tap(), n));
        s.append(String.format("add element inet %s to_tap { \"%s\" : jump in_%d }%n", table, sb.tap(), n));
        s.append(String.format("add element inet %s to_host { \"%s\" : jump host_%d }%n", table, sb.tap(), n));
        return s.toString();
    }

    /**
     * The nft part of a network's overlay device: what arrives on it must come from one of the network's members on
     * other hosts ({@code ovr_<vni>}) and go to one of its members here ({@code ovl_<vni>}), and what leaves on it the
     * reverse, so another network's or another tenant's traffic never crosses it, whatever addresses it claims (the
     * receiving tap's own chain still checks that the sender is a peer of that sandbox).
     */
    String addOverlay(String device, String vni, Collection<String> local, Collection<String> remote) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("add set inet %s ovl_%s { type ipv4_addr; }%n", table, vni));
        s.append(String.format("add set inet %s ovr_%s { type ipv4_addr; }%n", table, vni));
        s.append(String.format("add chain inet %s ovin_%s%n", table, vni));
        s.append(String.format("add chain inet %s ovout_%s%n", table, vni));
        s.append(String.format("add rule inet %s ovin_%s ip saddr != @ovr_%s drop%n", table, vni, vni));
        s.append(String.format("add rule inet %s ovin_%s ip daddr != @ovl_%s drop%n", table, vni, vni));
        s.append(String.format("add rule inet %s ovout_%s ip daddr != @ovr_%s drop%n", table, vni, vni));
        s.append(String.format("add rule inet %s ovout_%s ip saddr != @ovl_%s drop%n", table, vni, vni));
        s.append(elements("ovl_" + vni, local));
        s.append(elements("ovr_" + vni, remote));
        s.append(String.format("add element inet %s overlays { \"%s\" }%n", table, device));
        s.append(String.format("add element inet %s from_overlay { \"%s\" : jump ovin_%s }%n", table, device, vni));
        s.append(String.format("add element inet %s to_overlay { \"%s\" : jump ovout_%s }%n", table, device, vni));
        return s.toString();
    }

    /** Sets an overlay's member addresses to exactly these. */
    String replaceOverlay(String vni, Collection<String> local, Collection<String> remote) {
        return String.format("flush set inet %s ovl_%s%n", table, vni) + elements("ovl_" + vni, local)
                + String.format("flush set inet %s ovr_%s%n", table, vni) + elements("ovr_" + vni, remote);
    }

    /** Removes everything {@link #addOverlay} made. */
    String removeOverlay(String device, String vni) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("delete element inet %s from_overlay { \"%s\" }%n", table, device));
        s.append(String.format("delete element inet %s to_overlay { \"%s\" }%n", table, device));
        s.append(String.format("delete element inet %s overlays { \"%s\" }%n", table, device));
        for (String chain : List.of("ovin_", "ovout_")) {
            s.append(String.format("flush chain inet %s %s%s%n", table, chain, vni));
            s.append(String.format("delete chain inet %s %s%s%n", table, chain, vni));
        }
        s.append(String.format("delete set inet %s ovl_%s%n", table, vni));
        s.append(String.format("delete set inet %s ovr_%s%n", table, vni));
        return s.toString();
    }

    /** A network range outside the network pool (chosen by another host): closed and checked like the pool. */
    String addForeignRange(Ipv4Cidr range) {
        return String.format("add element inet %s netpool { %s }%n", table, range)
                + String.format("add element inet %s closed { %s }%n", table, range);
    }

    /** Removes everything {@link #add} made. */
    String remove(int n, String tap) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("delete element inet %s from_tap { \"%s\" }%n", table, tap));
        s.append(String.format("delete element inet %s to_tap { \"%s\" }%n", table, tap));
        s.append(String.format("delete element inet %s to_host { \"%s\" }%n", table, tap));
        s.append(String.format("delete element inet %s taps { \"%s\" }%n", table, tap));
        for (String chain : List.of("out_", "pass_", "in_", "inpass_", "host_")) {
            s.append(String.format("flush chain inet %s %s%d%n", table, chain, n));
        }
        for (String chain : List.of("out_", "pass_", "in_", "inpass_", "host_")) {
            s.append(String.format("delete chain inet %s %s%d%n", table, chain, n));
        }
        for (String set : List.of("src_", "peers_", "allow_", "allowport_", "dns_", "dnsport_", "diskep_")) {
            s.append(String.format("delete set inet %s %s%d%n", table, set, n));
        }
        s.append(String.format("delete counter inet %s cout_%d%n", table, n));
        s.append(String.format("delete counter inet %s cin_%d%n", table, n));
        return s.toString();
    }

    /** Extra statement for {@link #remove} when the sandbox is metered (its quota object goes too). */
    String removeQuota(int n) {
        return String.format("delete quota inet %s q_%d%n", table, n);
    }

    /** Replaces the allowlist: the out chain and the rule sets are refilled in the same transaction. */
    String replaceEgress(int n, EgressPolicy egress) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("flush chain inet %s out_%d%n", table, n));
        for (String set : List.of("allow_", "allowport_", "dns_", "dnsport_")) {
            s.append(String.format("flush set inet %s %s%d%n", table, set, n));
        }
        s.append(egressRules(n, egress));
        return s.toString();
    }

    /**
     * Sets the disk endpoints ({@code "address . port"}) a sandbox reaches over TCP whatever its allowlist; a
     * replaced allowlist keeps them (the set is not flushed with the allowlist's).
     */
    String replaceDiskEndpoints(int n, Collection<String> endpoints) {
        return String.format("flush set inet %s diskep_%d%n", table, n) + elements("diskep_" + n, endpoints);
    }

    /** Sets a sandbox's own addresses and its peers' to exactly these. */
    String replaceAddresses(int n, Collection<String> addresses, Collection<String> peers) {
        return String.format("flush set inet %s src_%d%n", table, n) + elements("src_" + n, addresses)
                + String.format("flush set inet %s peers_%d%n", table, n) + elements("peers_" + n, peers);
    }

    /** A new quota (limit and use), replacing the old one, if any; {@code quotaBytes} -1 removes metering. */
    String replaceQuota(Sandbox sb, boolean hadQuota) {
        StringBuilder s = new StringBuilder();
        s.append(String.format("flush chain inet %s pass_%d%n", table, sb.slot()));
        if (hadQuota) {
            s.append(removeQuota(sb.slot()));
        }
        s.append(passRules(sb));
        return s.toString();
    }

    /** Admits resolved addresses for {@code ttlSeconds}: to any port ({@code port} null) or to one port. */
    String admit(int n, Collection<String> addresses, Integer port, long ttlSeconds) {
        if (addresses.isEmpty()) {
            return "";
        }
        String set = port == null ? "dns_" + n : "dnsport_" + n;
        String items = addresses.stream()
                .map(a -> (port == null ? a : a + " . " + port) + " timeout " + ttlSeconds + "s")
                .collect(Collectors.joining(", "));
        return String.format("add element inet %s %s { %s }%n", table, set, items);
    }

    private String passRules(Sandbox sb) {
        int n = sb.slot();
        StringBuilder s = new StringBuilder();
        if (sb.quotaBytes() >= 0) {
            s.append(String.format("add quota inet %s q_%d { over %d bytes used %d bytes }%n", table, n,
                    sb.quotaBytes(), sb.quotaUsed()));
            s.append(String.format("add rule inet %s pass_%d quota name \"q_%d\" drop%n", table, n, n));
        }
        s.append(String.format("add rule inet %s pass_%d counter name \"cout_%d\"%n", table, n, n));
        return s.toString();
    }

    private String egressRules(int n, EgressPolicy egress) {
        StringBuilder s = new StringBuilder();
        String rule = "add rule inet " + table + " out_" + n + " ";
        s.append(rule).append("ip saddr != @src_").append(n).append(" drop\n");
        s.append(rule).append("ip daddr @netpool ip daddr != @peers_").append(n).append(" goto deny\n");
        s.append(rule).append("ct state established,related goto pass_").append(n).append('\n');
        s.append(rule).append("ip daddr @peers_").append(n).append(" goto pass_").append(n).append('\n');
        // The endpoint of a mounted disk, exactly its address and TCP port: before the closed ranges, since an
        // S3-compatible store often sits on a private network (the server checked it answers as that bucket).
        s.append(rule).append("meta l4proto tcp ip daddr . tcp dport @diskep_").append(n).append(" goto pass_")
                .append(n).append('\n');
        s.append(rule).append("ip daddr @closed goto deny\n");
        String privateDenied = "ip daddr @private ip daddr != @opened goto deny\n";
        if (egress.isOpen()) {
            s.append(rule).append(privateDenied); // the public internet only, unless the operator opened a range
            s.append(rule).append("goto pass_").append(n).append('\n');
        } else {
            Set<String> any = new LinkedHashSet<>();
            Set<String> withPort = new LinkedHashSet<>();
            for (EgressRule r : egress.parsed()) {
                if (r instanceof EgressRule.Address a) {
                    if (a.port() == null) {
                        any.add(a.cidr().toString());
                    } else {
                        withPort.add(a.cidr() + " . " + a.port());
                    }
                }
            }
            s.append(elements("allow_" + n, any));
            s.append(elements("allowport_" + n, withPort));
            s.append(rule).append("ip daddr @allow_").append(n).append(" goto pass_").append(n).append('\n');
            s.append(rule).append("meta l4proto { tcp, udp } ip daddr . th dport @allowport_").append(n)
                    .append(" goto pass_").append(n).append('\n');
            // Named addresses and ranges above may be private; what a host name resolved to may not (rebinding).
            s.append(rule).append(privateDenied);
            s.append(rule).append("ip daddr @dns_").append(n).append(" goto pass_").append(n).append('\n');
            s.append(rule).append("meta l4proto { tcp, udp } ip daddr . th dport @dnsport_").append(n)
                    .append(" goto pass_").append(n).append('\n');
        }
        s.append(rule).append("goto deny\n");
        return s.toString();
    }

    private String elements(String set, Collection<String> items) {
        if (items.isEmpty()) {
            return "";
        }
        return String.format("add element inet %s %s { %s }%n", table, set, String.join(", ", items));
    }
}
