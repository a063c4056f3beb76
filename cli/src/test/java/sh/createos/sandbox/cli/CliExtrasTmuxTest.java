package sh.createos.sandbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verbs added after {@link CliTmuxTest}: the real {@code bin/createos} in tmux against a real server, one sandbox
 * for the class. {@code sb sync} first: edits, creates, renames and deletes on both sides while it runs, one
 * conflict, the trees compared file by file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliExtrasTmuxTest {
    private static final String NAME = "cliextras";
    private static final String REMOTE = "/srv/proj";

    @TempDir
    static Path dir;
    private CliHarness h;
    private Path proj;
    private int sshPort;

    @BeforeAll
    void start() throws Exception {
        sshPort = CliHarness.freePort();
        h = new CliHarness(dir, Map.of("--ssh-listen", "127.0.0.1:" + sshPort));
        JsonNode c = h.json("create", "sb create --shape s-1vcpu-512mb --name " + NAME + " -o json");
        assertThat(c.at("/sandbox/status").asText()).isEqualTo("running");
    }

    @AfterAll
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    /** path → content of the sandbox's tree. */
    private Map<String, String> remoteTree() throws Exception {
        String[] r = h.run("rtree", "sb exec " + NAME + " -- sh -c 'cd " + REMOTE + " && find . -type f -printf \"%P\\n\""
                + " | sort | while read -r f; do printf \"%s\\t%s\\n\" \"$f\" \"$(base64 -w0 < \"$f\")\"; done'");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        Map<String, String> m = new TreeMap<>();
        for (String line : r[1].split("\n")) {
            if (!line.isEmpty()) {
                String[] kv = line.split("\t", 2);
                m.put(kv[0], new String(java.util.Base64.getDecoder().decode(kv.length > 1 ? kv[1] : "")));
            }
        }
        return m;
    }

    private Map<String, String> localTree() throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> files = Files.walk(proj)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                m.put(proj.relativize(f).toString(), Files.readString(f));
            }
        }
        return m;
    }

    /** Waits until both trees, less the files each side keeps to itself, are equal and pass {@code check}. */
    private Map<String, String> awaitConverged(Predicate<Map<String, String>> check, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        Map<String, String> local;
        Map<String, String> remote;
        do {
            local = localTree();
            local.keySet().removeAll(List.of("x.log", "build/o", "secret.txt"));
            remote = remoteTree();
            remote.remove("remote.log");
            if (local.equals(remote) && check.test(local)) {
                return local;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("the trees did not converge on " + what + ":\nlocal  " + local + "\nremote " + remote
                + "\nsync output:\n" + Files.readString(h.work.resolve("sync.out"))
                + Files.readString(h.work.resolve("sync.err")));
    }

    private List<JsonNode> events(String kind) throws Exception {
        return CliHarness.jsonLines(h.work.resolve("sync.out")).stream()
                .filter(n -> kind.equals(n.path("event").asText())).toList();
    }

    @Test
    @Order(1)
    void syncCarriesChangesBothWaysAndKeepsBothCopiesOfAConflict() throws Exception {
        proj = Files.createDirectories(h.work.resolve("proj"));
        Files.createDirectories(proj.resolve("sub"));
        Files.createDirectories(proj.resolve("build"));
        Files.writeString(proj.resolve("a.txt"), "alpha\n");
        Files.writeString(proj.resolve("sub/b.txt"), "beta\n");
        Files.writeString(proj.resolve("gone-local.txt"), "to be deleted here\n");
        Files.writeString(proj.resolve(".gitignore"), "*.log\nbuild/\n");
        Files.writeString(proj.resolve("x.log"), "ignored\n");
        Files.writeString(proj.resolve("build/o"), "ignored too\n");
        Files.writeString(proj.resolve("secret.txt"), "excluded\n");
        String[] seed = h.run("seed", "sb exec " + NAME + " -- sh -c 'mkdir -p " + REMOTE + "/docs && cd " + REMOTE
                + " && echo r1 > r1.txt && echo rl > remote.log && echo doc > docs/d.txt && echo old > gone-remote.txt'");
        assertThat(seed[0]).as(seed[2]).isEqualTo("0");

        h.tmux.newWindow("sync", h.env, h.work);
        // exec keeps the pid through bin/createos (which execs java): sync.pid is the CLI's own pid. No job control
        // in that shell: the SIGSTOP below must not hand the terminal back to bash (which would report the job
        // stopped and leave it in the background, out of reach of the Ctrl-C).
        h.tmux.type("sync", "set +m");
        h.tmux.type("sync", "sh -c 'echo $$ > sync.pid; exec sb sync " + NAME + " --local proj --remote " + REMOTE
                + " --exclude \"secret*\"' > sync.out 2> sync.err; echo $? > sync.rc");
        Map<String, String> first = awaitConverged(t -> t.containsKey("r1.txt") && t.containsKey("a.txt")
                && t.containsKey("docs/d.txt"), "the initial reconcile");
        assertThat(first).containsKeys(".gitignore", "sub/b.txt", "gone-local.txt", "gone-remote.txt");
        assertThat(remoteTree()).containsKey("remote.log").doesNotContainKeys("x.log", "build/o", "secret.txt");
        assertThat(localTree()).doesNotContainKey("remote.log");
        JsonNode started = CliHarness.jsonLines(h.work.resolve("sync.out")).get(0);
        assertThat(started.get("action").asText()).isEqualTo("sync_started");
        assertThat(started.get("mode").asText()).isEqualTo("two-way");

        // Both sides change while sync runs: edit, create, rename, delete on each.
        Files.writeString(proj.resolve("a.txt"), "alpha edited here\n");
        Files.writeString(proj.resolve("c.txt"), "created here\n");
        Files.createDirectories(proj.resolve("new/deep"));
        Files.writeString(proj.resolve("new/deep/n.txt"), "in a new directory\n");
        Files.move(proj.resolve("sub/b.txt"), proj.resolve("sub/b-renamed.txt"));
        Files.delete(proj.resolve("gone-local.txt"));
        String[] remote = h.run("redit", "sb exec " + NAME + " -- sh -c 'cd " + REMOTE + " && echo r1 edited there > r1.txt"
                + " && echo created there > r2.txt && mv docs/d.txt docs/d-renamed.txt && rm gone-remote.txt'");
        assertThat(remote[0]).as(remote[2]).isEqualTo("0");
        Map<String, String> both = awaitConverged(t -> "r1 edited there\n".equals(t.get("r1.txt"))
                && t.containsKey("r2.txt") && t.containsKey("docs/d-renamed.txt") && !t.containsKey("gone-remote.txt")
                && "alpha edited here\n".equals(t.get("a.txt")) && t.containsKey("c.txt")
                && t.containsKey("sub/b-renamed.txt") && !t.containsKey("gone-local.txt"), "changes on both sides");
        assertThat(both).containsEntry("new/deep/n.txt", "in a new directory\n")
                .containsEntry("sub/b-renamed.txt", "beta\n").containsEntry("docs/d-renamed.txt", "doc\n")
                .doesNotContainKeys("sub/b.txt", "docs/d.txt");
        assertThat(events("rename_remote")).anySatisfy(e ->
                assertThat(e.get("to").asText()).isEqualTo("sub/b-renamed.txt"));
        assertThat(events("rename_local")).anySatisfy(e ->
                assertThat(e.get("to").asText()).isEqualTo("docs/d-renamed.txt"));
        assertThat(events("conflict")).isEmpty();

        // A conflict: the same file changed on both sides before sync could carry either (the CLI stopped, as a
        // laptop asleep would be), then it goes on.
        long pid = Long.parseLong(Files.readString(h.work.resolve("sync.pid")).trim());
        new ProcessBuilder("kill", "-STOP", String.valueOf(pid)).start().waitFor();
        try {
            Files.writeString(proj.resolve("a.txt"), "alpha, the local side\n");
            String[] theirs = h.run("conflict", "sb exec " + NAME + " -- sh -c 'echo alpha, the sandbox side > "
                    + REMOTE + "/a.txt'");
            assertThat(theirs[0]).as(theirs[2]).isEqualTo("0");
        } finally {
            new ProcessBuilder("kill", "-CONT", String.valueOf(pid)).start().waitFor();
        }
        Map<String, String> after = awaitConverged(t -> t.keySet().stream().anyMatch(k -> k.contains(".sync-conflict-")),
                "the conflict");
        assertThat(after).containsEntry("a.txt", "alpha, the local side\n");
        String copy = after.keySet().stream().filter(k -> k.contains(".sync-conflict-")).findFirst().orElseThrow();
        assertThat(copy).startsWith("a.sync-conflict-").endsWith("-sandbox.txt");
        assertThat(after).containsEntry(copy, "alpha, the sandbox side\n");
        List<JsonNode> conflicts = events("conflict");
        assertThat(conflicts).hasSize(1);
        assertThat(conflicts.get(0).get("path").asText()).isEqualTo("a.txt");
        assertThat(conflicts.get(0).get("copy").asText()).isEqualTo(copy);

        h.tmux.keys("sync", "C-c");
        assertThat(Tmux.awaitFile(h.work.resolve("sync.rc"), CliHarness.CMD)).isEqualTo("0");
        List<JsonNode> lines = CliHarness.jsonLines(h.work.resolve("sync.out"));
        assertThat(lines.get(lines.size() - 1).path("action").asText()).isEqualTo("sync_stopped");
    }

    @Test
    @Order(2)
    void syncRefusesHomeAndSystemPathsAndPushModeMirrors() throws Exception {
        String[] home = h.run("synchome", "sb sync " + NAME + " --local \"$HOME\" --remote /srv/x --once");
        assertThat(home[0]).isEqualTo("2");
        assertThat(CliHarness.JSON.readTree(home[1]).at("/error/message").asText()).contains("home directory");
        String[] etc = h.run("syncetc", "sb sync " + NAME + " --local proj --remote /etc --once");
        assertThat(etc[0]).isEqualTo("2");
        String[] rel = h.run("syncrel", "sb sync " + NAME + " --local proj --remote srv/x --once");
        assertThat(rel[0]).isEqualTo("2");
        String[] mode = h.run("syncmode", "sb sync " + NAME + " --local proj --remote /srv/x --mode sideways --once");
        assertThat(mode[0]).isEqualTo("2");

        // push: the sandbox becomes a copy, its own extra file removed.
        Path mirror = Files.createDirectories(h.work.resolve("mirror"));
        Files.writeString(mirror.resolve("m.txt"), "mirrored\n");
        String[] extra = h.run("pushextra", "sb exec " + NAME + " -- sh -c 'mkdir -p /srv/mirror && echo x > /srv/mirror/extra.txt'");
        assertThat(extra[0]).isEqualTo("0");
        String[] push = h.run("push", "sb sync " + NAME + " --local mirror --remote /srv/mirror --mode push --once");
        assertThat(push[0]).as(push[2]).isEqualTo("0");
        String[] ls = h.run("pushls", "sb exec " + NAME + " -- sh -c 'cd /srv/mirror && ls && cat m.txt'");
        assertThat(ls[1]).isEqualTo("m.txt\nmirrored\n");
    }

    @Test
    @Order(3)
    void processesLogsAndEdit() throws Exception {
        JsonNode started = h.json("pstart", "sb process start " + NAME + " -- sh -c 'echo out-1; sleep 1; echo out-2; exit 7'");
        assertThat(started.get("action").asText()).isEqualTo("started");
        String pid = started.get("process_id").asText();
        String[] waited = h.run("pwait", "sb process wait " + NAME + " " + pid + " --timeout 120");
        assertThat(waited[0]).as(waited[2]).isEqualTo("7");
        assertThat(CliHarness.JSON.readTree(waited[1]).get("exit_code").asInt()).isEqualTo(7);
        String[] logs = h.run("plogs", "sb process logs " + NAME + " " + pid);
        assertThat(logs[0]).as(logs[2]).isEqualTo("0");
        assertThat(logs[1]).isEqualTo("out-1\nout-2\n");
        JsonNode list = h.json("pls", "sb proc ls " + NAME);
        assertThat(list.findValuesAsText("process_id")).contains(pid);

        String[] all = h.run("logs", "sb logs " + NAME + " -o json");
        assertThat(all[0]).as(all[2]).isEqualTo("0");
        List<JsonNode> lines = new java.util.ArrayList<>();
        for (String l : all[1].split("\n")) {
            lines.add(CliHarness.JSON.readTree(l));
        }
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.get("source").asText()).isEqualTo("console");
            assertThat(l.get("line").asText()).contains("Linux version");
        });
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.get("source").asText()).isEqualTo(pid);
            assertThat(l.get("line").asText()).isEqualTo("out-2");
        });
        String[] one = h.run("logsp", "sb logs " + NAME + " -p " + pid + " --no-prefix -o table");
        assertThat(one[1]).isEqualTo("out-1\nout-2\n");
        assertThat(h.run("logsnone", "sb logs " + NAME + " -p proc_nope")[0]).isEqualTo("5");

        JsonNode edited = h.json("edit", "sb edit " + NAME + " --auto-pause 900");
        assertThat(edited.get("action").asText()).isEqualTo("updated");
        assertThat(edited.at("/sandbox/auto_pause_after_seconds").asInt()).isEqualTo(900);
        JsonNode off = h.json("edit2", "sb edit " + NAME + " --no-auto-pause");
        assertThat(off.at("/sandbox/auto_pause_after_seconds").isMissingNode()
                || off.at("/sandbox/auto_pause_after_seconds").isNull()).isTrue();
        assertThat(h.run("edit0", "sb edit " + NAME)[0]).isEqualTo("2");
    }

    @Test
    @Order(4)
    void firewallAndNetworks() throws Exception {
        JsonNode allow = h.json("fwallow", "sb fw egress " + NAME + " --allow example.com --allow 10.9.0.0/16");
        assertThat(allow.get("action").asText()).isEqualTo("egress_updated");
        assertThat(allow.get("egress").toString()).contains("example.com", "10.9.0.0/16");
        JsonNode deny = h.json("fwdeny", "sb firewall egress " + NAME + " --deny example.com");
        assertThat(deny.get("egress").toString()).doesNotContain("example.com").contains("10.9.0.0/16");
        JsonNode show = h.json("fwget", "sb fw get " + NAME);
        assertThat(show.get("egress").toString()).contains("10.9.0.0/16");
        assertThat(show.at("/bandwidth/quota_bytes").isNumber()).isTrue();
        JsonNode on = h.json("fwingress", "sb fw ingress " + NAME + " on");
        assertThat(on.get("ingress_enabled").asBoolean()).isTrue();
        JsonNode offIngress = h.json("fwingress2", "sb fw ingress " + NAME + " off");
        assertThat(offIngress.get("ingress_enabled").asBoolean()).isFalse();
        JsonNode bw = h.json("fwbw", "sb fw bw " + NAME);
        assertThat(bw.get("remaining_bytes").isNumber()).isTrue();
        assertThat(h.run("fwbad", "sb fw ingress " + NAME + " maybe")[0]).isEqualTo("2");

        JsonNode net = h.json("netc", "sb net create clinet");
        String netId = net.get("id").asText();
        assertThat(net.get("action").asText()).isEqualTo("created");
        assertThat(h.json("netls", "sb network ls").findValuesAsText("name")).contains("clinet");
        assertThat(h.json("netget", "sb net get clinet").get("id").asText()).isEqualTo(netId);
        assertThat(h.json("netrm", "sb net rm clinet").get("action").asText()).isEqualTo("deleted");
        assertThat(h.run("netgone", "sb net get clinet")[0]).isEqualTo("5");
    }

    @Test
    @Order(5)
    void pickerAndDynamicCompletionOnATerminal() throws Exception {
        h.tmux.newWindow("pick", h.env, h.work);
        h.tmux.type("pick", "clear; sb get -o table; echo picked-rc=$?");
        h.tmux.awaitScreen("pick", sc -> sc.contains("Pick a sandbox") && sc.contains(NAME), CliHarness.CMD, "the picker");
        h.tmux.keys("pick", "-l", "extras");
        Thread.sleep(300);
        h.tmux.keys("pick", "Enter");
        h.tmux.awaitScreen("pick", sc -> sc.contains("picked-rc=0") && sc.contains("STATUS") && sc.contains("running"),
                CliHarness.CMD, "the picked sandbox's table");
        // Without a terminal on stdin there is no picker: a usage error.
        assertThat(h.run("nopick", "sb get < /dev/null")[0]).isEqualTo("2");

        h.tmux.type("pick", "clear; source <(createos completion bash)");
        h.tmux.keys("pick", "-l", "sb get cliex");
        h.tmux.keys("pick", "Tab");
        h.tmux.awaitScreen("pick", sc -> sc.contains("sb get " + NAME), CliHarness.CMD, "the completed sandbox name");
        h.tmux.keys("pick", "C-u");
    }

    @Test
    @Order(6)
    void shellOverTheSshGateway() throws Exception {
        String[] key = h.run("keygen", "ssh-keygen -q -t ed25519 -N '' -f idkey");
        assertThat(key[0]).as(key[2]).isEqualTo("0");
        String gw = "--ssh --ssh-gateway 127.0.0.1:" + sshPort + " -i idkey";
        String[] once = h.run("sshcmd", "sb shell " + NAME + " " + gw + " --add-key -- 'echo via-ssh; exit 4'");
        assertThat(once[0]).as(once[2]).isEqualTo("4");
        assertThat(once[1]).contains("via-ssh");
        assertThat(h.work.resolve("../config/ssh_known_hosts")).exists();

        h.tmux.newWindow("ssh", h.env, h.work);
        h.tmux.type("ssh", "sb shell " + NAME + " " + gw + "; echo $? > ssh.rc");
        h.tmux.type("ssh", "echo SSH-$((6*7))");
        h.tmux.awaitScreen("ssh", sc -> sc.contains("SSH-42"), CliHarness.CMD, "the shell over ssh");
        h.tmux.type("ssh", "exit 3");
        assertThat(Tmux.awaitFile(h.work.resolve("ssh.rc"), CliHarness.CMD)).isEqualTo("3");
        assertThat(h.run("sshbad", "sb shell " + NAME + " -i idkey")[0]).isEqualTo("2");
    }
}
