package sh.createos.sandbox.host.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import sh.createos.sandbox.host.proc.Command;

/**
 * The overlay of a private network whose members sit on several hosts: one unicast VXLAN device per network on each
 * such host (VNI from the network's /24, which is the same on every host), routed at layer 3. Each remote member
 * gets a /32 route into the device, a permanent neighbour entry with its host's overlay MAC and a forwarding entry
 * sending that MAC to its host's underlay address; no multicast, no learning, no ARP on the wire.
 *
 * <p>Why VXLAN rather than WireGuard: the control plane then only distributes addresses (no keys to make, hand out
 * and rotate), the VNI keeps each network apart on the wire as well as in nft, and it is all in the kernel and
 * iproute2. The price: the encapsulated traffic is plaintext, so the underlay must be a network the operator trusts
 * (a private LAN or VPC, or IPsec/WireGuard beneath it) — see the README, "Add a second machine".
 */
final class Vxlan {
    /** The IANA VXLAN port; the underlay must let UDP to it through between the hosts. */
    static final int PORT = 4789;
    /** 1500 on the underlay less the 50 bytes of outer IPv4, UDP and VXLAN headers and the inner Ethernet header. */
    static final int MTU = 1450;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Vxlan() {}

    /** The 24-bit VNI of a network: its /24's upper three bytes, the same on every host that carries it. */
    static int vni(Ipv4Cidr range) {
        return range.base() >>> 8 & 0xFFFFFF;
    }

    /**
     * {@code <instance>v<vni in hex>}, at most 14 characters; it never has a dash, so no instance's tap wildcard
     * ({@code <instance>-*}) matches it.
     */
    static String device(String instance, Ipv4Cidr range) {
        return instance + "v" + Integer.toHexString(vni(range));
    }

    /** A host's overlay MAC, derived from its underlay address so that every other host can compute it. */
    static String mac(String underlay) {
        int a = Ipv4Cidr.parseAddress(underlay);
        return String.format("02:c6:%02x:%02x:%02x:%02x", a >>> 24, a >>> 16 & 255, a >>> 8 & 255, a & 255);
    }

    static boolean exists(String device) {
        return Files.exists(Path.of("/sys/class/net", device));
    }

    /** Creates the device (if missing) sending from {@code localUnderlay}, with that address's MAC, up. */
    static void create(String device, int vni, String localUnderlay) throws IOException {
        if (!exists(device)) {
            run("ip", "link", "add", device, "type", "vxlan", "id", Integer.toString(vni), "local", localUnderlay,
                    "dstport", Integer.toString(PORT), "nolearning");
        }
        Files.writeString(Path.of("/proc/sys/net/ipv6/conf", device, "disable_ipv6"), "1");
        run("ip", "link", "set", "dev", device, "address", mac(localUnderlay), "mtu", Integer.toString(MTU));
        run("ip", "link", "set", "dev", device, "up");
    }

    static void delete(String device) throws IOException {
        if (exists(device)) {
            run("ip", "link", "del", "dev", device);
        }
    }

    /** Makes the device's routes, neighbours and forwarding entries exactly those of {@code members}. */
    static void route(String device, Collection<RemoteMember> members) throws IOException {
        Set<String> addresses = new HashSet<>();
        Set<String> macs = new HashSet<>();
        for (RemoteMember member : members) {
            String mac = mac(member.underlay());
            run("bridge", "fdb", "replace", mac, "dev", device, "dst", member.underlay(), "self", "permanent");
            run("ip", "neigh", "replace", member.address(), "lladdr", mac, "dev", device, "nud", "permanent");
            run("ip", "route", "replace", member.address() + "/32", "dev", device);
            addresses.add(member.address());
            macs.add(mac);
        }
        for (JsonNode route : JSON.readTree(run("ip", "-j", "route", "show", "dev", device))) {
            String dst = route.path("dst").asText("");
            if (!addresses.contains(dst)) {
                run("ip", "route", "del", dst.contains("/") ? dst : dst + "/32", "dev", device);
            }
        }
        for (JsonNode neigh : JSON.readTree(run("ip", "-j", "neigh", "show", "dev", device))) {
            String dst = neigh.path("dst").asText("");
            if (!dst.isEmpty() && !addresses.contains(dst)) {
                run("ip", "neigh", "del", dst, "dev", device);
            }
        }
        for (JsonNode entry : JSON.readTree(run("bridge", "-j", "fdb", "show", "dev", device))) {
            String mac = entry.path("mac").asText("");
            if (entry.has("dst") && !macs.contains(mac)) {
                run("bridge", "fdb", "del", mac, "dev", device, "dst", entry.path("dst").asText(), "self");
            }
        }
    }

    /** This instance's devices (to remove those no network needs any more). */
    static List<String> list(String instance) throws IOException {
        List<String> devices = new ArrayList<>();
        for (JsonNode link : JSON.readTree(run("ip", "-j", "link", "show", "type", "vxlan"))) {
            String name = link.path("ifname").asText("");
            if (name.matches(java.util.regex.Pattern.quote(instance) + "v[0-9a-f]{1,6}")) {
                devices.add(name);
            }
        }
        return devices;
    }

    private static String run(String... argv) throws IOException {
        return Command.of(argv).timeout(TIMEOUT).run().stdout();
    }
}
