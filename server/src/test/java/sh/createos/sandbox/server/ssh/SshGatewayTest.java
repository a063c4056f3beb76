package sh.createos.sandbox.server.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/** The SSH gateway with Debian's OpenSSH client against a real server and one real sandbox. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SshGatewayTest {
    @TempDir
    static Path dir;
    @TempDir
    static Path keys;
    private TestApi api;
    private OpenSsh ssh;
    private Path aliceKey;
    private Path bobKey;
    private String id;

    @BeforeAll
    void bootOneSandbox() throws Exception {
        api = TestApi.start(dir, true, c -> c.withSsh(SshConfig.of("127.0.0.1:0")));
        ssh = new OpenSsh(api.server.sshPort());
        aliceKey = OpenSsh.keygen(keys, "alice");
        bobKey = OpenSsh.keygen(keys, "bob");
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb", "name", "ssh-box",
                "ssh_pubkeys", List.of(OpenSsh.publicKey(aliceKey))));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        id = created.data().get("id").asText();
    }

    @AfterAll
    void cleanUp() {
        if (api != null) {
            api.close();
        }
    }

    @Test
    @Order(1)
    void execPrintsTheGuestKernelAndKeepsTheExitStatus() throws Exception {
        Reply rest = api.post("/v1/sandboxes/" + id + "/exec", api.aliceKey, map("cmd", "uname", "args", List.of("-r")));
        String kernel = rest.data().get("result").get("stdout").asText().strip();
        OpenSsh.Result uname = ssh.exec(aliceKey, id, "uname -r");
        assertThat(uname.exit()).as(uname.toString()).isZero();
        assertThat(uname.stdout().strip()).isEqualTo(kernel);
        OpenSsh.Result seven = ssh.exec(aliceKey, "ssh-box", "exit 7");
        assertThat(seven.exit()).as(seven.toString()).isEqualTo(7);
    }
}
