package sh.createos.sandbox.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Issue 18: a self-signal reason with a newline wrote a forged line into the server's log. */
class LogTextTest {
    @Test
    void tenantTextCannotStartANewLogLine() {
        String forged = "done\n2026-12-01T00:00:00Z [main] INFO Accounts - admin key created\r\u2028\u0007\"x\\";
        String quoted = LogText.quote(forged);
        assertThat(quoted).doesNotContain("\n", "\r", "\u2028", "\u0007");
        assertThat(quoted).isEqualTo("\"done\\n2026-12-01T00:00:00Z [main] INFO Accounts - admin key created"
                + "\\r\\u2028\\u0007\\\"x\\\\\"");
        assertThat(LogText.quote("job complete")).isEqualTo("\"job complete\"");
        assertThat(LogText.quote(null)).isEqualTo("null");
    }
}
