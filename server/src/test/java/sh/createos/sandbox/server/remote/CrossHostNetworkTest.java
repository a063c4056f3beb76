package sh.createos.sandbox.server.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two machines ({@link NetnsMachine}: a host daemon each in a network namespace of its own, with its own data
 * directory, nft table and taps) under two control-plane replicas on one real PostgreSQL: a private network with one
 * member on each machine works across them over the VXLAN overlay, by name and by address, both ways (ping and
 * HTTP); a non-member on either machine reaches neither member; pause, resume and fork run on each machine;
 * {@code GET /v1/hosts} shows both, with capacity that follows the sandboxes; once the remote member is gone the
 * overlay device goes too.
 */
class CrossHostNetworkTest {
    private final ReplicaCalls calls = new ReplicaCalls();

    @TempDir
    Path dir;

    /** {@code sh -c script} in the sandbox: its exit code and stdout. */
    private JsonNode sh(ReplicaProcess replica, String key, String id, String script) throws Exception {
        ReplicaCalls.Reply exec = calls.call("POST", replica.url() + "/v1/sandboxes/" + id + "/exec", key,
                Map.of("cmd", "sh", "args", List.of("-c", script)));
        assertThat(exec.status()).as(exec.toString()).isEqualTo(200);
        return exec.data().get("result");
    }

    private void reaches(ReplicaProcess replica, String key, String from, String target) throws Exception {
        JsonNode ping = sh(replica, key, from, "ping -c 1 -W 5 " + target);
        assertThat(ping.get("exit_code").asInt()).as("ping %s from %s: %s", target, from, ping).isZero();
        JsonNode got = sh(replica, key, from, "curl -s -m 10 http://" + target + ":8000/");
        assertThat(got.get("exit_code").asInt()).as("HTTP to %s from %s: %s", target, from, got).isZero();
        assertThat(got.get("stdout").asText()).contains("Directory listing");
    }

    private void cannotReach(ReplicaProcess replica, String key, String from, String target) throws Exception {
        JsonNode ping = sh(replica, key, from, "ping -c 1 -W 2 " + target);
        assertThat(ping.get("exit_code").asInt()).as("ping %s from %s", target, from).isNotZero();
        JsonNode got = sh(replica, key, from, "curl -s -m 3 http://" + target + ":8000/");
        assertThat(got.get("exit_code").asInt()).as("HTTP to %s from %s", target, from).isNotZero();
    }

    private ReplicaCalls.Reply create(ReplicaProcess replica, String key, Map<String, Object> body) throws Exception {
        ReplicaCalls.Reply created = calls.call("POST", replica.url() + "/v1/sandboxes", key, body);
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        return created;
    }

    private JsonNode host(ReplicaProcess replica, String key, String id) throws Exception {
        for (JsonNode host : calls.hosts(replica, key)) {
            if (host.get("id").asText().equals(id)) {
                return host;
            }
        }
        throw new AssertionError("no host " + id + " in " + calls.hosts(replica, key));
    }

    @Test
    void aPrivateNetworkWithAMemberOnEachMachineWorksAcrossThemAndKeepsOthersOut() throws Exception {
        try (TwoMachines machines = TwoMachines.start(dir, "cross-host-logs")) {
            NetnsMachine m1 = machines.m1;
            NetnsMachine m2 = machines.m2;
            ReplicaProcess a = machines.a;
            ReplicaProcess b = machines.b;
            String key = machines.key;
            assertThat(host(a, key, "h1").get("vm_count").asInt()).isZero();

            // One member on each machine, made through different replicas.
            String net = calls.call("POST", a.url() + "/v1/networks", key, Map.of("name", "team")).data().get("id")
                    .asText();
            String alpha = create(a, key, Map.of("shape", "s-1vcpu-256mb", "name", "alpha", "host_id", "h1",
                    "networks", List.of(Map.of("id", net)))).data().get("id").asText();
            String beta = create(b, key, Map.of("shape", "s-1vcpu-256mb", "name", "beta", "host_id", "h2",
                    "networks", List.of(Map.of("id", net)))).data().get("id").asText();
            JsonNode members = calls.call("GET", b.url() + "/v1/networks/" + net, key, null).data().get("members");
            assertThat(members.findValuesAsText("status")).as(members.toString()).containsOnly("attached");
            String alphaIp = null;
            String betaIp = null;
            for (JsonNode member : members) {
                if (member.get("sandbox_id").asText().equals(alpha)) {
                    alphaIp = member.get("ip").asText();
                } else {
                    betaIp = member.get("ip").asText();
                }
            }
            assertThat(alphaIp).isNotEqualTo(betaIp);
            assertThat(m1.exec("ip", "-d", "link", "show", "type", "vxlan")).as("h1's overlay").contains("vxlan id");
            assertThat(m2.exec("ip", "-d", "link", "show", "type", "vxlan")).as("h2's overlay").contains("vxlan id");

            // Each sandbox is driven through one replica (driving one through both is ReplicasOnPostgresTest's).
            Map<String, ReplicaProcess> via = new java.util.HashMap<>(Map.of(alpha, a, beta, b));
            for (String id : List.of(alpha, beta)) {
                assertThat(sh(via.get(id), key, id, "nohup setsid python3 -m http.server 8000 --bind 0.0.0.0"
                        + " >/tmp/http.log 2>&1 & for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8000/"
                        + " && exit 0; sleep 0.2; done; exit 1").get("exit_code").asInt()).isZero();
            }
            for (String target : List.of(betaIp, "beta", "beta.team.fc.local")) {
                reaches(a, key, alpha, target);
            }
            for (String target : List.of(alphaIp, "alpha", "alpha.fc.local")) {
                reaches(b, key, beta, target);
            }

            // A non-member on each machine reaches neither member, on its own machine or across, nor resolves them.
            String outsider1 = create(a, key, Map.of("shape", "s-1vcpu-256mb", "name", "outsider-one",
                    "host_id", "h1")).data().get("id").asText();
            String outsider2 = create(b, key, Map.of("shape", "s-1vcpu-256mb", "name", "outsider-two",
                    "host_id", "h2")).data().get("id").asText();
            via.put(outsider1, a);
            via.put(outsider2, b);
            for (String outsider : List.of(outsider1, outsider2)) {
                for (String target : List.of(alphaIp, betaIp)) {
                    cannotReach(via.get(outsider), key, outsider, target);
                }
                assertThat(sh(via.get(outsider), key, outsider, "getent hosts beta.fc.local").get("exit_code").asInt()).isNotZero();
            }
            JsonNode h1 = host(b, key, "h1");
            assertThat(h1.get("vm_count").asInt()).as(h1.toString()).isEqualTo(2);
            // (free_mib is the machine's free memory, which other processes move too: the VM count is the signal)
            assertThat(host(b, key, "h2").get("vm_count").asInt()).isEqualTo(2);

            // Pause, resume and fork on each machine; the resumed member is reached across again.
            for (String id : List.of(outsider1, outsider2)) {
                ReplicaProcess r = via.get(id);
                ReplicaCalls.Reply paused = calls.call("POST", r.url() + "/v1/sandboxes/" + id + "/pause", key, Map.of());
                assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
                ReplicaCalls.Reply fork = calls.call("POST", r.url() + "/v1/sandboxes/" + id + "/fork", key, Map.of());
                assertThat(fork.status()).as(fork.toString()).isEqualTo(200);
                String child = fork.data().get("id").asText();
                assertThat(sh(r, key, child, "echo forked").get("stdout").asText()).isEqualTo("forked\n");
                assertThat(calls.call("DELETE", r.url() + "/v1/sandboxes/" + child, key, null).status()).isLessThan(300);
                assertThat(calls.call("DELETE", r.url() + "/v1/sandboxes/" + id, key, null).status()).isLessThan(300);
            }
            ReplicaCalls.Reply paused = calls.call("POST", b.url() + "/v1/sandboxes/" + beta + "/pause", key, Map.of());
            assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
            ReplicaCalls.Reply resumed = calls.call("POST", b.url() + "/v1/sandboxes/" + beta + "/resume", key, Map.of());
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            JsonNode back = sh(a, key, alpha, "ping -c 1 -W 5 beta");
            assertThat(back.get("exit_code").asInt()).as("beta after its resume: " + back).isZero();

            // The remote member goes: its machine's count drops and h1's overlay device goes with it.
            assertThat(calls.call("DELETE", b.url() + "/v1/sandboxes/" + beta, key, null).status()).isLessThan(300);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (host(a, key, "h2").get("vm_count").asInt() != 0
                    || m1.exec("ip", "-d", "link", "show", "type", "vxlan").contains("vxlan id")) {
                assertThat(System.nanoTime()).as("h2 empty and h1 without an overlay: " + calls.hosts(a, key) + "\n"
                        + m1.exec("ip", "-d", "link", "show", "type", "vxlan")).isLessThan(deadline);
                Thread.sleep(250);
            }
            assertThat(sh(a, key, alpha, "ping -c 1 -W 2 " + betaIp).get("exit_code").asInt()).isNotZero();
            assertThat(calls.call("DELETE", a.url() + "/v1/sandboxes/" + alpha, key, null).status()).isLessThan(300);
        }
    }
}
