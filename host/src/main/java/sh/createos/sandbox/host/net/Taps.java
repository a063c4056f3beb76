package sh.createos.sandbox.host.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import sh.createos.sandbox.host.proc.Command;

/** The host side of the sandboxes' links, with iproute2: persistent taps, their addresses and the /32 routes. */
final class Taps {
    /** Every tap has the same host-side MAC: a guest's neighbour entry for its gateway never goes stale. */
    static final String HOST_MAC = "02:c5:00:00:00:01";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private Taps() {}

    /** Creates {@code tap} (if missing) with {@code gateway/prefix} on the host side, proxy ARP on, IPv6 off, up. */
    static void create(String tap, String gateway, int prefix) throws IOException {
        if (!exists(tap)) {
            ip("tuntap", "add", "dev", tap, "mode", "tap");
        }
        sysctl("net/ipv6/conf/" + tap + "/disable_ipv6", "1");
        sysctl("net/ipv4/conf/" + tap + "/proxy_arp", "1");
        ip("link", "set", "dev", tap, "address", HOST_MAC);
        ip("addr", "replace", gateway + "/" + prefix, "dev", tap);
        ip("link", "set", "dev", tap, "up");
    }

    static void delete(String tap) throws IOException {
        if (exists(tap)) {
            ip("link", "del", "dev", tap);
        }
    }

    /** A private network address of the guest behind {@code tap}. */
    static void routeTo(String address, String tap) throws IOException {
        ip("route", "replace", address + "/32", "dev", tap);
    }

    static void unroute(String address, String tap) throws IOException {
        if (exists(tap)) {
            Command.of("ip", "route", "del", address + "/32", "dev", tap).timeout(TIMEOUT).run();
        }
    }

    static boolean exists(String tap) {
        return Files.exists(Path.of("/sys/class/net", tap));
    }

    /** Names of the links that start with {@code prefix} followed by digits only (this instance's taps). */
    static List<String> list(String prefix) throws IOException {
        String out = Command.of("ip", "-j", "link", "show").timeout(TIMEOUT).run().stdout();
        List<String> taps = new ArrayList<>();
        for (JsonNode link : JSON.readTree(out)) {
            String name = link.path("ifname").asText("");
            if (name.startsWith(prefix) && name.length() > prefix.length()
                    && name.substring(prefix.length()).chars().allMatch(Character::isDigit)) {
                taps.add(name);
            }
        }
        return taps;
    }

    static void enableForwarding() throws IOException {
        sysctl("net/ipv4/ip_forward", "1");
    }

    private static void ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        Command.of(argv).timeout(TIMEOUT).run();
    }

    private static void sysctl(String key, String value) throws IOException {
        Path file = Path.of("/proc/sys", key);
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("cannot set " + file + " to " + value + ": " + e, e);
        }
    }
}
