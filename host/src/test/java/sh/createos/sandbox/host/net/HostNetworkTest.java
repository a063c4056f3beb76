package sh.createos.sandbox.host.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import sh.createos.sandbox.host.agent.ExecRequest;
import sh.createos.sandbox.host.agent.ExecResult;
import sh.createos.sandbox.host.kit.DataDir;
import sh.createos.sandbox.host.kit.GuestKit;
import sh.createos.sandbox.host.proc.Command;
import sh.createos.sandbox.host.vmm.Accelerator;
import sh.createos.sandbox.host.vmm.PausedVm;
import sh.createos.sandbox.host.vmm.QemuVmm;
import sh.createos.sandbox.host.vmm.Vm;
import sh.createos.sandbox.host.vmm.VmSpec;

/**
 * The data path with real VMs, real nft and ip, and no internet: two sandboxes (alpha, bravo) on a HostNetwork of
 * their own, an "outside" host in a network namespace ({@link ExternalHost}: HTTP, a UDP sink, and the DNS zone the
 * forwarder forwards to). Both VMs are shared by the tests, which run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostNetworkTest {
    private static final String RUN = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3);
    private static final long QUOTA = 2L * 1024 * 1024;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static Path stateDir;
    private static ExternalHost outside;
    private static HostNetwork net;
    private static QemuVmm vmm;
    private static Vm alpha;
    private static Vm bravo;
    private static SandboxLease alphaLease;
    private static SandboxLease bravoLease;

    @BeforeAll
    static void setUp() throws Exception {
        // Pools in 10.120-10.199, away from the default 10.200/10.201 of a server that may run on this machine.
        int r = ThreadLocalRandom.current().nextInt(40);
        outside = ExternalHost.start(Map.of("allowed.test", "198.18." + (100 + r) + ".2",
                "blocked.test", "198.18." + (100 + r) + ".3", "other.test", "198.18." + (100 + r) + ".4"), 100 + r);
        stateDir = Files.createTempDirectory("hostnet-");
        NetworkConfig config = new NetworkConfig(stateDir, "ct" + RUN, Ipv4Cidr.parse("10." + (120 + 2 * r) + ".0.0/16"),
                Ipv4Cidr.parse("10." + (121 + 2 * r) + ".0.0/16"), List.of(new InetSocketAddress(outside.address(2), 53)),
                0, List.of(Ipv4Cidr.parse("169.254.0.0/16")), "fc.local");
        net = HostNetwork.open(config);
        Path dataDir = DataDir.fromEnvironment();
        // Through the field: some tests reopen the network, as a restarted control plane would.
        vmm = new QemuVmm(dataDir, GuestKit.load(dataDir), Accelerator.detect(), Duration.ofSeconds(240), id -> net.nic(id));
        alphaLease = net.acquire(vmId("alpha"), new SandboxIdentity("sb_alpha" + RUN, "alpha"), EgressPolicy.OPEN, QUOTA);
        bravoLease = net.acquire(vmId("bravo"), new SandboxIdentity("sb_bravo" + RUN, "bravo"), EgressPolicy.OPEN,
                Bandwidth.DEFAULT_QUOTA);
        alpha = vmm.boot(spec("alpha"));
        bravo = vmm.boot(spec("bravo"));
        for (Vm vm : List.of(alpha, bravo)) {
            ExecResult server = sh(vm, "nohup setsid python3 -m http.server 8000 --bind 0.0.0.0 >/tmp/http.log 2>&1 &"
                    + " for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8000/ && exit 0; sleep 0.2; done; exit 1");
            assertThat(server.exitCode()).as("http.server in %s", vm.id()).isZero();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            for (Vm vm : new Vm[] {alpha, bravo}) {
                if (vm != null && vm.isAlive()) {
                    vm.destroy();
                }
            }
        } finally {
            try {
                if (net != null) {
                    net.destroy();
                }
            } finally {
                if (outside != null) {
                    outside.close();
                }
            }
        }
    }

    @Test
    @Order(1)
    void theGuestHasItsAddressAndReachesTheOutsideByAddressAndName() throws Exception {
        ExecResult ip = sh(alpha, "ip -4 -o addr show; ip link show; cat /etc/resolv.conf");
        assertThat(ip.stdout()).contains(alphaLease.address() + "/30", alphaLease.mac(), "nameserver " + alphaLease.gateway());
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").stdout()).isEqualTo("hello from " + outside.address(2));
        assertThat(curl(alpha, "http://allowed.test/hello").stdout()).isEqualTo("hello from " + outside.address(2));
        // DNS over TCP too, to the resolver the guest was given.
        ExecResult tcp = sh(alpha, "python3 -c \"import socket, struct\n"
                + "q = struct.pack('>HHHHHH', 7, 0x0100, 1, 0, 0, 0) + b'\\x07allowed\\x04test\\x00' + struct.pack('>HH', 1, 1)\n"
                + "s = socket.create_connection(('" + alphaLease.gateway() + "', 53), timeout=5)\n"
                + "s.sendall(struct.pack('>H', len(q)) + q); n = struct.unpack('>H', s.recv(2))[0]; a = b''\n"
                + "while len(a) < n: a += s.recv(n - len(a))\n"
                + "print(socket.inet_ntoa(a[-4:]))\"");
        assertThat(tcp.stdout().strip()).as(tcp.stderr()).isEqualTo(outside.address(2));
    }

    @Test
    @Order(2)
    void byDefaultNeitherTheHostNorAnotherSandboxIsReachable() throws Exception {
        HttpServer hostService = HttpServer.create(new InetSocketAddress(0), 10);
        hostService.createContext("/", ex -> {
            ex.sendResponseHeaders(200, 2);
            ex.getResponseBody().write("ok".getBytes(StandardCharsets.UTF_8));
            ex.close();
        });
        hostService.start();
        try {
            int port = hostService.getAddress().getPort();
            // A control: the service answers on the host's own addresses, and bravo's server answers the host.
            assertThat(get("http://" + outside.address(1) + ":" + port + "/")).isEqualTo("ok");
            assertThat(get("http://" + bravoLease.address() + ":8000/")).contains("Directory listing");

            assertThat(curl(alpha, "http://" + alphaLease.gateway() + ":" + port + "/").exitCode())
                    .as("a host port on the sandbox's gateway").isNotZero();
            assertThat(curl(alpha, "http://" + outside.address(1) + ":" + port + "/").exitCode())
                    .as("a host port on another host address (like the API's)").isNotZero();
            assertThat(curl(alpha, "http://" + bravoLease.address() + ":8000/").exitCode())
                    .as("another sandbox").isNotZero();
            assertThat(curl(alpha, "http://" + bravoLease.gateway() + ":" + port + "/").exitCode())
                    .as("a host port on another sandbox's gateway").isNotZero();
        } finally {
            hostService.stop(0);
        }
    }

    @Test
    @Order(3)
    void privateRangesAreClosedToOpenEgressUnlessTheAllowlistOrTheOperatorOpensThem() throws Exception {
        // Issue 18: with egress open a guest routed to the host's LAN (RFC 1918) and its resolver.
        int r = ThreadLocalRandom.current().nextInt(200);
        String lan = "172.31." + r + ".2";
        outside.addLanAddress("172.31." + r + ".1", lan);
        assertThat(get("http://" + lan + "/hello")).as("the LAN host answers the host").isEqualTo("hello from " + lan);
        assertThat(curl(alpha, "http://" + lan + "/hello").exitCode()).as("open egress, a LAN address").isNotZero();
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").stdout()).as("open egress, the internet")
                .isEqualTo("hello from " + outside.address(2));
        net.setEgress(alphaLease.vmId(), EgressPolicy.of(List.of("172.31." + r + ".0/24")));
        assertThat(curl(alpha, "http://" + lan + "/hello").stdout()).as("an allowlist naming the range")
                .isEqualTo("hello from " + lan);
        net.setEgress(alphaLease.vmId(), EgressPolicy.OPEN);
        assertThat(curl(alpha, "http://" + lan + "/hello").exitCode()).isNotZero();
        // The operator opens the range (a restart with --egress-open-private).
        net.close();
        net = HostNetwork.open(net.config().withOpenedPrivate(List.of(Ipv4Cidr.parse("172.31." + r + ".0/24"))));
        try {
            assertThat(curl(alpha, "http://" + lan + "/hello").stdout()).as("opened by the operator")
                    .isEqualTo("hello from " + lan);
            assertThat(curl(bravo, "http://" + lan + "/hello").stdout()).isEqualTo("hello from " + lan);
        } finally {
            net.close();
            net = HostNetwork.open(net.config().withOpenedPrivate(List.of()));
        }
        assertThat(curl(alpha, "http://" + lan + "/hello").exitCode()).isNotZero();
    }

    @Test
    @Order(3)
    void aDnsQuerySpoofingAnotherSandboxsAddressAdmitsNothingForIt() throws Exception {
        // Issue 18: the forwarder took a query's source address at its word, so alpha could make it resolve (and
        // admit through bravo's allowlist) names for bravo.
        net.setEgress(bravoLease.vmId(), EgressPolicy.of(List.of("allowed.test")));
        try {
            assertThat(curl(bravo, "http://" + outside.address(2) + "/hello").exitCode())
                    .as("not admitted before bravo resolves the name").isNotZero();
            String bravoIp = bravoLease.address();
            ExecResult spoof = sh(alpha, "nic=$(ls /sys/class/net | grep -v '^lo$' | head -1);"
                    + " ip addr add " + bravoIp + "/32 dev $nic && python3 -c \"import socket, struct\n"
                    + "q = struct.pack('>HHHHHH', 9, 0x0100, 1, 0, 0, 0) + b'\\x07allowed\\x04test\\x00'"
                    + " + struct.pack('>HH', 1, 1)\n"
                    + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('" + bravoIp + "', 0))\n"
                    + "for _ in range(3): s.sendto(q, ('" + alphaLease.gateway() + "', 53))\"; rc=$?;"
                    + " ip addr del " + bravoIp + "/32 dev $nic; exit $rc");
            assertThat(spoof.exitCode()).as(spoof.stderr()).isZero();
            Thread.sleep(1500); // the forwarder answers (and admits) within milliseconds
            assertThat(curl(bravo, "http://" + outside.address(2) + "/hello").exitCode())
                    .as("admitted for bravo by a query alpha sent from bravo's address").isNotZero();
            assertThat(curl(bravo, "http://allowed.test/hello").stdout()).as("bravo's own query still works")
                    .isEqualTo("hello from " + outside.address(2));
        } finally {
            net.setEgress(bravoLease.vmId(), EgressPolicy.OPEN);
        }
    }

    @Test
    @Order(3)
    void anAllowlistAdmitsAllowedNamesAndBlocksTheRestForTcpAndUdp() throws Exception {
        net.setEgress(alphaLease.vmId(), EgressPolicy.of(List.of("allowed.test:80", outside.address(4) + ":9999")));

        assertThat(curl(alpha, "http://allowed.test/hello").stdout()).isEqualTo("hello from " + outside.address(2));
        assertThat(curl(alpha, "http://blocked.test/hello").exitCode()).as("a name not on the list").isNotZero();
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").exitCode()).as("an IP not on the list").isNotZero();
        assertThat(curl(alpha, "http://127.0.0.1:8000/").stdout()).as("loopback").contains("Directory listing");
        String tag = "u" + RUN;
        ExecResult udp = sh(alpha, "python3 -c \"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
                + " s.sendto(b'blocked-" + tag + "', ('" + outside.address(3) + "', 9999));"
                + " s.sendto(b'allowed-" + tag + "', ('" + outside.address(4) + "', 9999))\"");
        assertThat(udp.exitCode()).as(udp.stderr()).isZero();
        assertThat(awaitDatagram("allowed-" + tag)).doesNotContain("blocked-" + tag);

        // What a name admitted for alpha is not admitted for bravo, whose list holds another name.
        net.setEgress(bravoLease.vmId(), EgressPolicy.of(List.of("other.test")));
        assertThat(curl(bravo, "http://" + outside.address(2) + "/hello").exitCode()).isNotZero();
        assertThat(curl(bravo, "http://other.test/hello").stdout()).isEqualTo("hello from " + outside.address(4));

        net.setEgress(alphaLease.vmId(), EgressPolicy.of(List.of("*")));
        net.setEgress(bravoLease.vmId(), EgressPolicy.OPEN);
        assertThat(net.lease(alphaLease.vmId()).orElseThrow().egress()).isEmpty();
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").stdout()).isEqualTo("hello from " + outside.address(3));
        assertThat(curl(bravo, "http://" + outside.address(2) + "/hello").exitCode()).isZero();
    }

    @Test
    @Order(3)
    void aDiskEndpointPassesAnAllowlistThatExcludesItAndNothingElseDoes() throws Exception {
        net.setEgress(alphaLease.vmId(), EgressPolicy.of(List.of("allowed.test:80")));
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").exitCode()).isNotZero();

        net.setDiskEndpoints(alphaLease.vmId(), List.of(new InetSocketAddress(outside.address(3), 80)));
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").stdout())
                .isEqualTo("hello from " + outside.address(3));
        // curl's 7: the connection was refused (the deny chain's reset), not merely answered oddly.
        assertThat(curl(alpha, "http://" + outside.address(4) + "/hello").exitCode()).as("another host").isEqualTo(7);
        assertThat(curl(alpha, "http://" + outside.address(3) + ":53/").exitCode()).as("another port, listening")
                .isEqualTo(7);
        // A new allowlist keeps the endpoint; clearing the endpoints closes it again.
        net.setEgress(alphaLease.vmId(), EgressPolicy.of(List.of("other.test")));
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").exitCode()).isZero();
        net.setDiskEndpoints(alphaLease.vmId(), List.of());
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").exitCode()).isNotZero();
        net.setEgress(alphaLease.vmId(), EgressPolicy.OPEN);
        assertThat(curl(alpha, "http://" + outside.address(3) + "/hello").exitCode()).isZero();
    }

    @Test
    @Order(4)
    void membersOfAPrivateNetworkReachEachOtherByNameAndAddressUntilDetached() throws Exception {
        PrivateNetwork team = net.createNetwork("net_" + RUN, "team");
        String alphaIp = net.attach(team.id(), alphaLease.vmId());
        assertThat(curl(bravo, "http://" + alphaIp + ":8000/").exitCode()).as("bravo is no member yet").isNotZero();
        String bravoIp = net.attach(team.id(), bravoLease.vmId());
        net.configureGuest(alphaLease.vmId(), alpha.agent());
        net.configureGuest(bravoLease.vmId(), bravo.agent());
        assertThat(Ipv4Cidr.parse(team.cidr()).contains(Ipv4Cidr.parseAddress(bravoIp))).isTrue();

        assertThat(curl(alpha, "http://" + bravoIp + ":8000/").stdout()).contains("Directory listing");
        assertThat(curl(bravo, "http://" + alphaIp + ":8000/").stdout()).contains("Directory listing");
        assertThat(sh(alpha, "getent hosts bravo").stdout()).startsWith(bravoIp + " ");
        assertThat(sh(alpha, "getent hosts bravo.team.fc.local").stdout()).startsWith(bravoIp + " ");
        assertThat(sh(alpha, "getent hosts sb_bravo" + RUN + ".fc.local").stdout()).startsWith(bravoIp + " ");
        assertThat(curl(alpha, "http://bravo:8000/").stdout()).contains("Directory listing");
        assertThat(sh(alpha, "getent hosts nobody.fc.local").exitCode()).as("not a member").isNotZero();

        // A connection opened while attached, used only after the detach.
        sh(alpha, "rm -f /tmp/detached; nohup python3 -c \"import socket, time, os\n"
                + "s = socket.create_connection(('" + bravoIp + "', 8000)); print('connected', flush=True)\n"
                + "for i in range(300):\n if os.path.exists('/tmp/detached'): break\n time.sleep(0.1)\n"
                + "try:\n s.settimeout(5); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); print('got', s.recv(64))\n"
                + "except Exception as e: print('failed', type(e).__name__)\" > /tmp/held.out 2>&1 &");
        awaitGuestFile(alpha, "/tmp/held.out", "connected");
        net.detach(team.id(), bravoLease.vmId());
        sh(alpha, "touch /tmp/detached");
        assertThat(awaitGuestFile(alpha, "/tmp/held.out", "failed")).as("an established connection is cut too")
                .doesNotContain("got");
        assertThat(curl(alpha, "http://" + bravoIp + ":8000/").exitCode()).as("detached: cut off at once").isNotZero();
        assertThat(curl(bravo, "http://" + alphaIp + ":8000/").exitCode()).as("a non-member").isNotZero();
        assertThat(sh(alpha, "getent hosts bravo").exitCode()).as("no longer resolvable").isNotZero();
        net.configureGuest(bravoLease.vmId(), bravo.agent());
        assertThat(sh(bravo, "ip -4 -o addr show").stdout()).doesNotContain(bravoIp + "/");
        net.deleteNetwork(team.id());
        assertThat(net.lease(alphaLease.vmId()).orElseThrow().networks()).isEmpty();
    }

    @Test
    @Order(5)
    void theQuotaCapsEgressAndARechargeLiftsIt() throws Exception {
        Bandwidth before = net.bandwidth(alphaLease.vmId());
        Bandwidth polled = net.bandwidths().get(alphaLease.vmId());
        assertThat(polled.quotaBytes()).isEqualTo(QUOTA);
        assertThat(polled.usedBytes()).isGreaterThanOrEqualTo(before.usedBytes());
        assertThat(before.quotaBytes()).isEqualTo(QUOTA);
        assertThat(before.capped()).isFalse();
        assertThat(curl(alpha, "-o /dev/null http://" + outside.address(2) + "/bytes?n=1048576").exitCode()).isZero();
        assertThat(net.bandwidth(alphaLease.vmId()).ingressBytes()).isGreaterThan(before.ingressBytes() + 1024 * 1024);

        String upload = "head -c 4194304 /dev/zero | curl -sS --max-time 8 -X POST --data-binary @- http://"
                + outside.address(2) + "/sink";
        assertThat(sh(alpha, upload).exitCode()).as("an upload past the quota").isNotZero();
        Bandwidth capped = net.bandwidth(alphaLease.vmId());
        assertThat(capped.capped()).isTrue();
        assertThat(capped.remainingBytes()).isZero();
        assertThat(capped.usedBytes()).isBetween(QUOTA - 200_000, QUOTA);
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").exitCode()).as("capped: nothing goes out").isNotZero();
        net.close(); // a restart of the control plane keeps the cap
        net = HostNetwork.open(net.config());
        assertThat(net.bandwidth(alphaLease.vmId()).capped()).isTrue();
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").exitCode()).as("still capped").isNotZero();

        Bandwidth recharged = net.recharge(alphaLease.vmId(), 64L * 1024 * 1024);
        assertThat(recharged.quotaBytes()).isEqualTo(QUOTA + 64L * 1024 * 1024);
        assertThat(recharged.capped()).isFalse();
        assertThat(sh(alpha, upload).stdout()).isEqualTo("4194304");
        assertThat(net.bandwidth(alphaLease.vmId()).usedBytes()).isGreaterThan(capped.usedBytes() + 4194304);
    }

    @Test
    @Order(6)
    void aForkGetsItsOwnTapAddressAndMacAndTheResumedSourceKeepsItsOwn() throws Exception {
        PausedVm paused = alpha.pause();
        String childId = vmId("fork");
        SandboxLease child;
        try {
            child = net.acquire(childId, new SandboxIdentity("sb_fork" + RUN, "fork"), EgressPolicy.OPEN,
                    Bandwidth.DEFAULT_QUOTA);
            Vm fork = vmm.fork(paused, spec("fork"));
            try {
                String identity = sh(fork, "ip -4 -o addr show; ip link show; ip route; hostname").stdout();
                assertThat(identity).contains(child.address() + "/30", child.mac(), "default via " + child.gateway() + " ",
                        "fork").doesNotContain(alphaLease.address() + "/", alphaLease.mac(), "via " + alphaLease.gateway() + " ");
                assertThat(curl(fork, "http://" + outside.address(2) + "/hello").stdout())
                        .isEqualTo("hello from " + outside.address(2));
                assertThat(get("http://" + child.address() + ":8000/")).as("the fork's copy of alpha's server")
                        .contains("Directory listing");
            } finally {
                fork.destroy();
                net.release(childId);
            }
        } finally {
            alpha = vmm.resume(paused);
        }
        assertThat(Path.of("/sys/class/net", child.tap())).doesNotExist();
        assertThat(sh(alpha, "ip -4 -o addr show").stdout()).contains(alphaLease.address() + "/30");
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").exitCode()).isZero();
    }

    @Test
    @Order(7)
    void releaseLeavesNothingBehindAndAStartRemovesStrayTaps() throws Exception {
        String table = net.config().table();
        bravo.destroy();
        net.release(bravoLease.vmId());
        assertThat(Path.of("/sys/class/net", bravoLease.tap())).doesNotExist();
        String rules = Command.of("nft", "list", "table", "inet", table).run().stdout();
        int slot = bravoLease.slot();
        assertThat(rules).doesNotContain(bravoLease.tap(), "out_" + slot + " ", "src_" + slot + " ", "cout_" + slot + " ",
                "q_" + slot + " ", bravoLease.address());
        assertThat(stateDir.resolve("leases").resolve(bravoLease.vmId() + ".json")).doesNotExist();
        assertThat(net.leaseByAddress(bravoLease.address())).isEmpty();

        // A crashed process's leftovers: a tap of this instance that no lease holds.
        String stray = net.config().tapPrefix() + "9999";
        Command.of("ip", "tuntap", "add", "dev", stray, "mode", "tap").run();
        net.close();
        net = HostNetwork.open(net.config());
        assertThat(Path.of("/sys/class/net", stray)).doesNotExist();
        assertThat(Path.of("/sys/class/net", alphaLease.tap())).exists();
        assertThat(net.bandwidth(alphaLease.vmId()).usedBytes()).as("counters survive a restart").isGreaterThan(QUOTA);
        assertThat(curl(alpha, "http://" + outside.address(2) + "/hello").exitCode()).as("alpha still online").isZero();

        alpha.destroy();
        net.destroy();
        assertThat(Path.of("/sys/class/net", alphaLease.tap())).doesNotExist();
        assertThat(Command.of("nft", "list", "tables").run().stdout()).doesNotContain(table);
        net = null;
    }

    private static String vmId(String name) {
        return "n" + RUN + "-" + name;
    }

    private static VmSpec spec(String name) throws IOException {
        Path dataDir = DataDir.fromEnvironment();
        int imageMib = (int) (Files.size(GuestKit.load(dataDir).image("devbox:1")) / (1024 * 1024)) + 1;
        return new VmSpec(vmId(name), "devbox:1", 1, 384, imageMib + 256, name);
    }

    private static ExecResult sh(Vm vm, String script) throws IOException {
        return vm.agent().run(ExecRequest.of("sh", "-c", script));
    }

    private static ExecResult curl(Vm vm, String args) throws IOException {
        return sh(vm, "curl -sS --max-time 6 " + args);
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The content of a guest file once it contains {@code marker} (within ~15 s). */
    private static String awaitGuestFile(Vm vm, String path, String marker) throws Exception {
        String content = "";
        for (int i = 0; i < 75 && !content.contains(marker); i++) {
            content = sh(vm, "cat " + path + " 2>/dev/null").stdout();
            if (!content.contains(marker)) {
                Thread.sleep(200);
            }
        }
        assertThat(content).as("%s in %s", path, vm.id()).contains(marker);
        return content;
    }

    /** The outside host's UDP log once {@code marker} arrived (UDP is not acknowledged: poll). */
    private static String awaitDatagram(String marker) throws Exception {
        String log = "";
        for (int i = 0; i < 50 && !log.contains(marker); i++) {
            log = get("http://" + outside.address(2) + "/udp");
            if (!log.contains(marker)) {
                Thread.sleep(100);
            }
        }
        assertThat(log).contains(marker);
        return log;
    }
}
