package sh.createos.sandbox.host.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import sh.createos.sandbox.host.proc.Command;

/** Finds the real Go agent under the project root ({@code CREATEOS_SANDBOX_HOME} or up from the working directory), building it if missing. */
final class AgentBinary {
    private static Path path;

    private AgentBinary() {}

    static synchronized Path get() throws IOException {
        if (path == null) {
            Path home = projectHome();
            Path binary = home.resolve("build/agent/createos-agent");
            if (!Files.isExecutable(binary)) {
                Command.of("make", "-C", home.resolve("agent").toString()).timeout(Duration.ofMinutes(5)).run();
            }
            if (!Files.isExecutable(binary)) {
                throw new IOException("`make -C agent` did not produce " + binary);
            }
            path = binary;
        }
        return path;
    }

    private static Path projectHome() throws IOException {
        String env = System.getenv("CREATEOS_SANDBOX_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("agent")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IOException("cannot find the project root: set CREATEOS_SANDBOX_HOME");
    }
}
