package sh.createos.sandbox.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static sh.createos.sandbox.server.TestApi.map;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import sh.createos.sandbox.server.TestApi;
import sh.createos.sandbox.server.TestApi.Reply;

/** Buffered exec through the API under concurrency, on one real sandbox (issue 18). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExecUnderLoadTest {
    @TempDir
    static Path dir;
    private TestApi api;
    private String base;

    @BeforeAll
    void bootOneSandbox() throws Exception {
        api = TestApi.start(dir, true);
        Reply created = api.post("/v1/sandboxes", api.aliceKey, map("shape", "s-1vcpu-512mb"));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        base = "/v1/sandboxes/" + created.data().get("id").asText();
    }

    @AfterAll
    void cleanUp() {
        if (api != null) {
            api.close();
        }
    }

    /**
     * 10 of 1,000 buffered execs at 50 concurrent lost the end of stdout: the agent's drain after the exit gave up on
     * a read deadline that passed while the loaded guest had not yet read the pipe.
     */
    @Test
    void fiftyConcurrentBufferedExecsTimesFortyRoundsLoseNoByte() throws Exception {
        String expected = IntStream.rangeClosed(1, 2000).mapToObj(Integer::toString)
                .collect(Collectors.joining("\n", "", "\n"));
        List<String> incomplete = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < 40; round++) {
                List<Future<Reply>> replies = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    replies.add(pool.submit(() -> api.post(base + "/exec", api.aliceKey,
                            map("cmd", "seq", "args", List.of("1", "2000")))));
                }
                for (Future<Reply> future : replies) {
                    Reply reply = future.get();
                    assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
                    assertThat(reply.data().get("result").get("exit_code").asInt()).isZero();
                    String stdout = reply.data().get("result").get("stdout").asText();
                    if (!stdout.equals(expected)) {
                        incomplete.add("round " + round + ": " + stdout.length() + " of " + expected.length()
                                + " bytes");
                    }
                }
            }
        }
        assertThat(incomplete).as("execs whose stdout was not complete").isEmpty();
    }
}
