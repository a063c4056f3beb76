package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.auth.ApiKeys;
import sh.createos.sandbox.model.ErrorCode;
import sh.createos.sandbox.server.DomainException;
import sh.createos.sandbox.server.store.JdbcStore;

/** {@code admin} subcommands as an operator types them, against the data directory's database. */
class ServerMainAdminTest {
    @TempDir
    Path dir;

    @Test
    void usersAndKeysAreManagedFromTheCommandLine() throws Exception {
        String created = admin("user", "create", "ops@example.com", "--sandbox-limit", "2");
        assertThat(created).matches("u_[0-9A-Z]{26}\tops@example.com\tsandbox limit 2\n");
        assertThat(admin("user", "list")).isEqualTo(created);

        String[] key = admin("key", "create", "ops@example.com").strip().split("\t");
        assertThat(key[0]).startsWith("key_");
        assertThat(key[1]).startsWith("sk_");
        try (JdbcStore store = JdbcStore.sqlite(dir.resolve("control.db"))) {
            var headers = HttpFields.build().add("X-Api-Key", key[1]);
            assertThat(new ApiKeys(store).authenticate(headers).email()).isEqualTo("ops@example.com");
        }

        assertThat(admin("key", "revoke", key[0])).isEqualTo("revoked " + key[0] + "\n");
        try (JdbcStore store = JdbcStore.sqlite(dir.resolve("control.db"))) {
            var headers = HttpFields.build().add("X-Api-Key", key[1]);
            assertThatThrownBy(() -> new ApiKeys(store).authenticate(headers))
                    .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED));
        }
    }

    private String admin(String... command) throws Exception {
        String[] args = new String[command.length + 3];
        args[0] = "admin";
        args[1] = "--data-dir";
        args[2] = dir.toString();
        System.arraycopy(command, 0, args, 3, command.length);
        PrintStream original = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            ServerMain.main(args);
        } finally {
            System.setOut(original);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
