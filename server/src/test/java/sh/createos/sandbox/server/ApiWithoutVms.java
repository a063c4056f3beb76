package sh.createos.sandbox.server;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The base of the test classes that drive a real server whose data directory has no guest kit: one server per class,
 * started before its first test and stopped after its last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ApiWithoutVms {
    @TempDir
    protected static Path dir;
    protected TestApi api;

    @BeforeAll
    void startServer() throws Exception {
        api = TestApi.start(dir, false);
    }

    @AfterAll
    void stopServer() {
        api.close();
    }
}
